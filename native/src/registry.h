// Self-registration of N-API exports: each kernel file adds its functions with a static Registrar, so kernel files
// (engine, index, ...) can be added to native/src/ without editing a shared init function.
#pragma once
#include <napi.h>
#include <functional>
#include <string>
#include <vector>

namespace realm {

using ExportFn = Napi::Value (*)(const Napi::CallbackInfo&);

struct ExportEntry {
  std::string name;
  ExportFn fn;
};

inline std::vector<ExportEntry>& exportRegistry() {
  static std::vector<ExportEntry> entries;
  return entries;
}

struct Registrar {
  Registrar(const char* name, ExportFn fn) { exportRegistry().push_back({name, fn}); }
};

}  // namespace realm

// REALM_EXPORT(name, fn) registers `fn` as addon export `name`.
#define REALM_EXPORT_CAT2(a, b) a##b
#define REALM_EXPORT_CAT(a, b) REALM_EXPORT_CAT2(a, b)
#define REALM_EXPORT(name, fn) static ::realm::Registrar REALM_EXPORT_CAT(realmRegistrar_, __LINE__)(name, fn)
