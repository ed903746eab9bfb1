// An Xvfb server owned by the worker: started with -displayfd, -nolisten
// tcp and a cookie of its own (-auth, render/x_authority.h), so that only
// clients given authority() connect; killed when this object is destroyed.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace enconvert::render {

class Xvfb {
  public:
    // Starts Xvfb and waits until it reports its display number;
    // `extra_arguments` go after the worker's own (tests turn an extension
    // off with them). Throws std::runtime_error if it cannot start within a
    // few seconds.
    explicit Xvfb(const std::vector<std::string>& extra_arguments = {});
    ~Xvfb();
    Xvfb(const Xvfb&) = delete;
    Xvfb& operator=(const Xvfb&) = delete;

    const std::string& display() const;  // e.g. ":99"
    // The X authority file with the server's cookie: the renderer
    // children's XAUTHORITY (WebKit binds it into the web processes'
    // sandbox, which open the display themselves).
    const std::string& authority() const;
    // Its directory (0700), removed with everything in it when the server
    // stops: the renderers write their web processes' cookies there.
    const std::string& authority_directory() const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace enconvert::render
