// Addon entry point: exports every function registered with REALM_EXPORT across native/src/*.cc.
#include "registry.h"

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  for (const auto& e : realm::exportRegistry()) {
    exports.Set(e.name, Napi::Function::New(env, e.fn, e.name));
  }
  return exports;
}

NODE_API_MODULE(realm_native, Init)
