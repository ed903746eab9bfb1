// Outbound address policy (SSRF guard, docs/api.md "Outbound safety"):
// resolve a host once, refuse private, loopback, link-local, multicast,
// unspecified, CGNAT, metadata and other non-public addresses (IPv4, IPv6
// and IPv4 inside IPv6), unless an operator-listed network exempts them.
// The caller connects to the returned address only (pinning), so a second
// DNS answer cannot redirect the connection.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace enconvert::net {

struct IpAddress {
    bool v6 = false;
    std::array<std::uint8_t, 16> bytes{};  // v4 uses the first 4

    // Parses a numeric address in canonical form only (inet_pton).
    static std::optional<IpAddress> parse(const std::string& text);
    std::string text() const;
    // The IPv4 address an IPv4-mapped (::ffff:a.b.c.d) IPv6 address reaches.
    std::optional<IpAddress> mapped_v4() const;
    // The address of an AF_INET or AF_INET6 socket address; none otherwise.
    static std::optional<IpAddress> of(const sockaddr* address);

    bool operator==(const IpAddress&) const = default;
};

struct Cidr {
    IpAddress base;
    int prefix = 0;

    // "10.0.0.0/8", "::1/128"; a bare address means a single host.
    // Throws std::invalid_argument on malformed input.
    static Cidr parse(const std::string& text);
    bool contains(const IpAddress& a) const;
};

enum class ResolveError { none, not_found, blocked_address };

struct Resolved {
    ResolveError error = ResolveError::none;
    IpAddress address;  // valid when error == none: the first of `allowed`
    // Every allowed address of the answer, in the resolver's order (a
    // caller that can fall back to the next one when one does not answer).
    std::vector<IpAddress> allowed;
};

// A host's addresses in the resolver's order; empty when it does not
// resolve. Blocking; called from any thread.
using HostLookup = std::function<std::vector<IpAddress>(const std::string& host)>;

// getaddrinfo (AF_UNSPEC, stream sockets).
std::vector<IpAddress> system_lookup(const std::string& host);

class AddressPolicy {
  public:
    // `lookup` empty: system_lookup. Tests pass one that answers late or
    // never (DNS servers that do not answer cannot be set up per test).
    explicit AddressPolicy(std::vector<Cidr> exempt = {}, HostLookup lookup = {})
        : exempt_(std::move(exempt)), lookup_(std::move(lookup)) {}
    // allowed_networks config value: CIDRs separated by commas or spaces.
    static AddressPolicy from_config(const std::string& allowed_networks, HostLookup lookup = {});

    bool allowed(const IpAddress& a) const;

    // One lookup (blocking, without a deadline of its own: call it through
    // net/background_resolve.h where a caller must not wait for ever), then
    // the allowed addresses, denied ones left out. A host whose addresses are
    // all denied gives blocked_address; one that does not resolve gives
    // not_found.
    Resolved resolve(const std::string& host) const;

  private:
    std::vector<Cidr> exempt_;
    HostLookup lookup_;
};

// True for addresses no public service lives at (the deny list itself,
// without exemptions).
bool is_denied_by_default(const IpAddress& a);

}  // namespace enconvert::net
