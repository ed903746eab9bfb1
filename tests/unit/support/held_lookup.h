// A DNS that does not answer for chosen hosts until the test lets it: what a
// resolver whose server never replies looks like to its caller (no such
// server can be set up per test: the system resolver reads resolv.conf).
// Other hosts go to the system resolver. The hold ends by itself after
// `bound`, so code that waits for the lookup fails its test instead of
// hanging it.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "net/address_policy.h"

namespace enconvert::test_support {

class HeldLookup : public std::enable_shared_from_this<HeldLookup> {
  public:
    // Held hosts resolve to `address` once released (or after `bound`).
    static std::shared_ptr<HeldLookup> create(
        std::set<std::string> held_hosts, std::string address = "93.184.216.34",
        std::chrono::seconds bound = std::chrono::seconds(30)) {
        return std::shared_ptr<HeldLookup>(
            new HeldLookup(std::move(held_hosts), std::move(address), bound));
    }

    // For AddressPolicy / NotifierSettings::host_lookup; keeps this alive.
    net::HostLookup lookup() {
        return [self = shared_from_this()](const std::string& host) { return self->look(host); };
    }

    void release() {
        const std::lock_guard lock(mutex_);
        released_ = true;
        cv_.notify_all();
    }
    int started() const { return started_; }    // held lookups begun
    int answered() const { return answered_; }  // held lookups that returned

  private:
    HeldLookup(std::set<std::string> held, std::string address, std::chrono::seconds bound)
        : held_(std::move(held)), address_(std::move(address)), bound_(bound) {}

    std::vector<net::IpAddress> look(const std::string& host) {
        if (held_.count(host) == 0) return net::system_lookup(host);
        ++started_;
        {
            std::unique_lock lock(mutex_);
            cv_.wait_for(lock, bound_, [this] { return released_; });
        }
        ++answered_;
        return {*net::IpAddress::parse(address_)};
    }

    const std::set<std::string> held_;
    const std::string address_;
    const std::chrono::seconds bound_;
    std::mutex mutex_;
    std::condition_variable cv_;
    bool released_ = false;
    std::atomic<int> started_{0};
    std::atomic<int> answered_{0};
};

}  // namespace enconvert::test_support
