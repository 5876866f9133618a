// Argument validation for the N-API layer: typed-array views (zero copy; Data() honours byteOffset), integer
// dimensions, numbers, booleans. Each check throws a JS TypeError/RangeError naming the function and argument
// and returns false, so a binding can `if (!a.f32(...)) return env.Undefined();` and never crash on bad input.
#pragma once
#include <napi.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>

namespace realm {

class Args {
 public:
  Args(const Napi::CallbackInfo& info, const char* fn, size_t count) : info_(info), env_(info.Env()), fn_(fn) {
    if (info.Length() < count) {
      typeError("expected " + std::to_string(count) + " arguments, got " + std::to_string(info.Length()));
      ok_ = false;
    }
  }
  bool ok() const { return ok_; }
  Napi::Env env() const { return env_; }

  // Float32Array argument i: data pointer and element count.
  bool f32(size_t i, const char* name, float*& data, int64_t& len) {
    if (!ok_) return false;
    Napi::Value v = info_[i];
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
      return typeError(std::string(name) + " must be a Float32Array");
    Napi::Float32Array a = v.As<Napi::Float32Array>();
    data = a.Data();
    len = (int64_t)a.ElementLength();
    return true;
  }
  // Float32Array argument i, or null (data = nullptr, len = 0).
  bool f32OrNull(size_t i, const char* name, float*& data, int64_t& len) {
    if (!ok_) return false;
    if (info_[i].IsNull()) {
      data = nullptr;
      len = 0;
      return true;
    }
    return f32(i, (std::string(name) + " (or null)").c_str(), data, len);
  }
  // Int32Array argument i.
  bool i32(size_t i, const char* name, int32_t*& data, int64_t& len) {
    if (!ok_) return false;
    Napi::Value v = info_[i];
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
      return typeError(std::string(name) + " must be an Int32Array");
    Napi::Int32Array a = v.As<Napi::Int32Array>();
    data = a.Data();
    len = (int64_t)a.ElementLength();
    return true;
  }
  // Non-negative integer argument i (at most 2^31 - 1: every dimension fits BLAS int).
  bool dim(size_t i, const char* name, int64_t& out) {
    if (!ok_) return false;
    Napi::Value v = info_[i];
    if (!v.IsNumber()) return typeError(std::string(name) + " must be a number");
    double d = v.As<Napi::Number>().DoubleValue();
    if (!(d >= 0) || d > 2147483647.0 || std::floor(d) != d)
      return rangeError(std::string(name) + " must be an integer in [0, 2^31), got " + num(d));
    out = (int64_t)d;
    return true;
  }
  // Finite number argument i.
  bool number(size_t i, const char* name, double& out) {
    if (!ok_) return false;
    Napi::Value v = info_[i];
    if (!v.IsNumber()) return typeError(std::string(name) + " must be a number");
    out = v.As<Napi::Number>().DoubleValue();
    if (!std::isfinite(out)) return rangeError(std::string(name) + " must be finite, got " + num(out));
    return true;
  }
  // Boolean argument i.
  bool flag(size_t i, const char* name, bool& out) {
    if (!ok_) return false;
    Napi::Value v = info_[i];
    if (!v.IsBoolean()) return typeError(std::string(name) + " must be a boolean");
    out = v.As<Napi::Boolean>().Value();
    return true;
  }
  // Array `name` (len elements) must hold at least `need` elements (described by `what`).
  bool atLeast(const char* name, int64_t len, int64_t need, const std::string& what) {
    if (!ok_) return false;
    if (len < need)
      return rangeError(std::string(name) + " has " + std::to_string(len) + " elements, needs " + what + " = " +
                        std::to_string(need));
    return true;
  }
  bool require(bool cond, const std::string& msg) {
    if (!ok_) return false;
    return cond ? true : rangeError(msg);
  }
  bool typeError(const std::string& msg) {
    if (ok_) Napi::TypeError::New(env_, std::string(fn_) + ": " + msg).ThrowAsJavaScriptException();
    ok_ = false;
    return false;
  }
  bool rangeError(const std::string& msg) {
    if (ok_) Napi::RangeError::New(env_, std::string(fn_) + ": " + msg).ThrowAsJavaScriptException();
    ok_ = false;
    return false;
  }

 private:
  static std::string num(double d) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", d);
    return buf;
  }
  const Napi::CallbackInfo& info_;
  Napi::Env env_;
  const char* fn_;
  bool ok_ = true;
};

}  // namespace realm
