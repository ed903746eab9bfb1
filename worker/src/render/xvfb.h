// An Xvfb server owned by the worker: started with -displayfd and
// -nolisten tcp, killed when this object is destroyed.
#pragma once

#include <memory>
#include <string>

namespace enconvert::render {

class Xvfb {
  public:
    // Starts Xvfb and waits until it reports its display number.
    // Throws std::runtime_error if it cannot start within a few seconds.
    Xvfb();
    ~Xvfb();
    Xvfb(const Xvfb&) = delete;
    Xvfb& operator=(const Xvfb&) = delete;

    const std::string& display() const;  // e.g. ":99"

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace enconvert::render
