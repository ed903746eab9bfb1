#include "net/address_policy.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <cstring>
#include <memory>
#include <stdexcept>

namespace enconvert::net {

namespace {

// Networks with no public service behind them (RFC 6890 special-purpose
// registries plus multicast). Anything not listed is treated as public.
// Never destroyed: a lookup on a detached thread (net/background_resolve.h)
// may still check its answer against the list while the process exits,
// after static objects are destroyed (make sanitize: heap-use-after-free).
const std::vector<Cidr>& denied_networks() {
    static const std::vector<Cidr>& nets = *new std::vector<Cidr>([] {
        std::vector<Cidr> v;
        for (const char* c : {
                 "0.0.0.0/8",          // "this network", includes 0.0.0.0
                 "10.0.0.0/8",         // private
                 "100.64.0.0/10",      // carrier-grade NAT
                 "127.0.0.0/8",        // loopback
                 "169.254.0.0/16",     // link-local, includes 169.254.169.254 metadata
                 "172.16.0.0/12",      // private
                 "192.0.0.0/24",       // IETF protocol assignments
                 "192.0.2.0/24",       // documentation
                 "192.88.99.0/24",     // 6to4 relay anycast
                 "192.168.0.0/16",     // private
                 "198.18.0.0/15",      // benchmarking
                 "198.51.100.0/24",    // documentation
                 "203.0.113.0/24",     // documentation
                 "224.0.0.0/4",        // multicast
                 "240.0.0.0/4",        // reserved, includes broadcast
                 "::/128",             // unspecified
                 "::1/128",            // loopback
                 "::/96",              // IPv4-compatible (deprecated)
                 "64:ff9b:1::/48",     // local-use NAT64
                 "100::/64",           // discard
                 "::ffff:0:0:0/96",    // IPv4-translated (SIIT), a translator's path inward
                 "2001::/23",          // IETF protocol assignments: Teredo (2001::/32,
                                       // its IPv4 client inverted, not judged), benchmarking
                                       // (2001:2::/48), ORCHID and ORCHIDv2 (2001:10::/28,
                                       // 2001:20::/28)
                 "2001:db8::/32",      // documentation
                 "3fff::/20",          // documentation (RFC 9637)
                 "5f00::/16",          // SRv6 segment identifiers (RFC 9602)
                 "fc00::/7",           // unique local
                 "fe80::/10",          // link-local
                 "fec0::/10",          // site-local (deprecated)
                 "ff00::/8",           // multicast
                 "fd00:ec2::254/128",  // AWS metadata over IPv6 (inside fc00::/7 too)
             }) {
            v.push_back(Cidr::parse(c));
        }
        return v;
    }());
    return nets;
}

// IPv6 forms that carry an IPv4 address the packet really reaches: judge
// them by that IPv4 address. IPv4-mapped (::ffff:0:0/96) and NAT64
// (64:ff9b::/96) carry it in the last 4 bytes, 6to4 (2002::/16) in bytes 2-5.
std::optional<IpAddress> embedded_v4(const IpAddress& a) {
    if (!a.v6) return std::nullopt;
    if (auto m = a.mapped_v4()) return m;
    static const Cidr nat64 = Cidr::parse("64:ff9b::/96");
    static const Cidr six_to_four = Cidr::parse("2002::/16");
    IpAddress v4;
    if (nat64.contains(a)) {
        std::copy(a.bytes.begin() + 12, a.bytes.end(), v4.bytes.begin());
        return v4;
    }
    if (six_to_four.contains(a)) {
        std::copy(a.bytes.begin() + 2, a.bytes.begin() + 6, v4.bytes.begin());
        return v4;
    }
    return std::nullopt;
}

struct AddrinfoDeleter {
    void operator()(addrinfo* ai) const { freeaddrinfo(ai); }
};

}  // namespace

std::optional<IpAddress> IpAddress::parse(const std::string& text) {
    IpAddress a;
    if (inet_pton(AF_INET, text.c_str(), a.bytes.data()) == 1) return a;
    a.v6 = true;
    if (inet_pton(AF_INET6, text.c_str(), a.bytes.data()) == 1) return a;
    return std::nullopt;
}

std::string IpAddress::text() const {
    char buf[INET6_ADDRSTRLEN] = {};
    inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), buf, sizeof buf);
    return buf;
}

std::optional<IpAddress> IpAddress::mapped_v4() const {
    if (!v6) return std::nullopt;
    for (int i = 0; i < 10; ++i) {
        if (bytes[i] != 0) return std::nullopt;
    }
    if (bytes[10] != 0xff || bytes[11] != 0xff) return std::nullopt;
    IpAddress v4;
    std::copy(bytes.begin() + 12, bytes.end(), v4.bytes.begin());
    return v4;
}

Cidr Cidr::parse(const std::string& text) {
    const auto slash = text.find('/');
    const std::string addr = text.substr(0, slash);
    const auto base = IpAddress::parse(addr);
    if (!base) throw std::invalid_argument("not an IP network: '" + text + "'");
    const int max = base->v6 ? 128 : 32;
    int prefix = max;
    if (slash != std::string::npos) {
        const std::string p = text.substr(slash + 1);
        if (p.empty() || p.size() > 3 || p.find_first_not_of("0123456789") != std::string::npos) {
            throw std::invalid_argument("bad prefix length in '" + text + "'");
        }
        prefix = std::stoi(p);
        if (prefix > max) throw std::invalid_argument("prefix too long in '" + text + "'");
    }
    return Cidr{*base, prefix};
}

bool Cidr::contains(const IpAddress& a) const {
    if (a.v6 != base.v6) return false;
    int bits = prefix;
    for (std::size_t i = 0; bits > 0; ++i, bits -= 8) {
        const std::uint8_t mask = bits >= 8 ? 0xff : static_cast<std::uint8_t>(0xff << (8 - bits));
        if ((a.bytes[i] & mask) != (base.bytes[i] & mask)) return false;
    }
    return true;
}

bool is_denied_by_default(const IpAddress& a) {
    if (auto v4 = embedded_v4(a)) return is_denied_by_default(*v4);
    for (const auto& net : denied_networks()) {
        if (net.contains(a)) return true;
    }
    return false;
}

AddressPolicy AddressPolicy::from_config(const std::string& allowed_networks, HostLookup lookup) {
    std::vector<Cidr> exempt;
    std::string item;
    auto flush = [&] {
        if (!item.empty()) exempt.push_back(Cidr::parse(item));
        item.clear();
    };
    for (char c : allowed_networks) {
        if (c == ',' || c == ' ' || c == '\t') {
            flush();
        } else {
            item += c;
        }
    }
    flush();
    return AddressPolicy(std::move(exempt), std::move(lookup));
}

bool AddressPolicy::allowed(const IpAddress& a) const {
    // An exemption listed as IPv4 also covers the IPv4-mapped form.
    const IpAddress judged = embedded_v4(a).value_or(a);
    for (const auto& net : exempt_) {
        if (net.contains(a) || net.contains(judged)) return true;
    }
    return !is_denied_by_default(a);
}

std::vector<IpAddress> system_lookup(const std::string& host) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* raw = nullptr;
    if (getaddrinfo(host.c_str(), nullptr, &hints, &raw) != 0 || raw == nullptr) return {};
    std::unique_ptr<addrinfo, AddrinfoDeleter> list(raw);
    std::vector<IpAddress> out;
    for (const addrinfo* ai = list.get(); ai != nullptr; ai = ai->ai_next) {
        IpAddress a;
        if (ai->ai_family == AF_INET) {
            const auto* sin = reinterpret_cast<const sockaddr_in*>(ai->ai_addr);
            std::memcpy(a.bytes.data(), &sin->sin_addr, 4);
        } else if (ai->ai_family == AF_INET6) {
            const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(ai->ai_addr);
            a.v6 = true;
            std::memcpy(a.bytes.data(), &sin6->sin6_addr, 16);
        } else {
            continue;
        }
        out.push_back(a);
    }
    return out;
}

std::optional<IpAddress> IpAddress::of(const sockaddr* address) {
    if (address == nullptr) return std::nullopt;
    IpAddress ip;
    if (address->sa_family == AF_INET) {
        const auto* v4 = reinterpret_cast<const sockaddr_in*>(address);
        std::memcpy(ip.bytes.data(), &v4->sin_addr, 4);
        return ip;
    }
    if (address->sa_family == AF_INET6) {
        const auto* v6 = reinterpret_cast<const sockaddr_in6*>(address);
        ip.v6 = true;
        std::memcpy(ip.bytes.data(), &v6->sin6_addr, 16);
        return ip;
    }
    return std::nullopt;
}

Resolved AddressPolicy::resolve(const std::string& host) const {
    // Hosts in URLs may be bracketed IPv6 literals.
    std::string name = host;
    if (name.size() > 2 && name.front() == '[' && name.back() == ']') {
        name = name.substr(1, name.size() - 2);
    }
    const std::vector<IpAddress> addresses = lookup_ ? lookup_(name) : system_lookup(name);
    if (addresses.empty()) return Resolved{ResolveError::not_found, {}, {}};
    Resolved r;
    for (const IpAddress& a : addresses) {
        if (allowed(a)) r.allowed.push_back(a);
    }
    if (r.allowed.empty()) return Resolved{ResolveError::blocked_address, {}, {}};
    r.address = r.allowed.front();
    return r;
}

}  // namespace enconvert::net
