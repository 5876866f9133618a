// Small N-API helpers for the index kernels: typed-array views without extra handle allocations (one
// napi_get_typedarray_info call per argument, which keeps per-query overhead low) and error throwing.
#pragma once
#include <string>

#include "registry.h"

namespace realm {
namespace idx {

template <class T>
struct Arr {
  T* p = nullptr;
  size_t len = 0;
};

inline Napi::Value throwErr(Napi::Env env, const std::string& msg) {
  Napi::TypeError::New(env, msg).ThrowAsJavaScriptException();
  return env.Undefined();
}

inline const char* typeName(napi_typedarray_type t) {
  switch (t) {
    case napi_float32_array: return "Float32Array";
    case napi_float64_array: return "Float64Array";
    case napi_uint8_array: return "Uint8Array";
    case napi_int32_array: return "Int32Array";
    case napi_uint32_array: return "Uint32Array";
    case napi_uint16_array: return "Uint16Array";
    default: return "typed array";
  }
}

template <class T>
bool getArrV(Napi::Env env, napi_value v, napi_typedarray_type want, Arr<T>& out, const char* name) {
  bool is = false;
  napi_is_typedarray(env, v, &is);
  napi_typedarray_type type;
  size_t len = 0;
  void* data = nullptr;
  if (is && napi_get_typedarray_info(env, v, &type, &len, &data, nullptr, nullptr) == napi_ok && type == want) {
    out.p = static_cast<T*>(data);
    out.len = len;
    return true;
  }
  throwErr(env, std::string("index kernel: argument '") + name + "' must be a " + typeName(want));
  return false;
}

template <class T>
bool getArr(const Napi::CallbackInfo& info, size_t i, napi_typedarray_type want, Arr<T>& out, const char* name) {
  return getArrV(info.Env(), i < info.Length() ? (napi_value)info[i] : (napi_value)info.Env().Undefined(), want, out,
                 name);
}

}  // namespace idx
}  // namespace realm
