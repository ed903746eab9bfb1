// A host lookup the caller can stop waiting for. getaddrinfo has no deadline
// and cannot be cancelled: a DNS server that never answers holds its caller
// for as long as the system resolver retries (resolv.conf's timeout x
// attempts x servers, 30 s and more). The lookup runs on a thread of its own;
// a caller that gives up (its deadline passed, it stops) drops the
// BackgroundResolve and goes on at once. The thread then ends on its own when
// the resolver gives up and its answer is thrown away.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "net/address_policy.h"

namespace enconvert::net {

class BackgroundResolve {
  public:
    // Starts policy.resolve(host). `on_answer` (may be empty) runs on the
    // lookup's thread once the answer is in, unless the lookup was dropped
    // first: it must be quick and must not throw (a loop's wake-up call).
    BackgroundResolve(const AddressPolicy& policy, std::string host,
                      std::function<void()> on_answer = {});
    // Abandons a lookup still running: on_answer is never called after this.
    ~BackgroundResolve();
    BackgroundResolve(BackgroundResolve&&) noexcept = default;
    BackgroundResolve& operator=(BackgroundResolve&&) noexcept;
    BackgroundResolve(const BackgroundResolve&) = delete;
    BackgroundResolve& operator=(const BackgroundResolve&) = delete;

    // The answer, once it is in; nullopt before.
    std::optional<Resolved> answer() const;
    // Waits up to `timeout` for the answer.
    std::optional<Resolved> wait_for(std::chrono::milliseconds timeout) const;

  private:
    struct Shared;
    void abandon() noexcept;

    std::shared_ptr<Shared> shared_;
};

}  // namespace enconvert::net
