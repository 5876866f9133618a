{
  "targets": [
    {
      "target_name": "realm_native",
      "sources": ["<!@(node -p \"require('fs').readdirSync('native/src').filter(f=>f.endsWith('.cc')).map(f=>'native/src/'+f).join(' ')\")"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++1y", "-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-O3", "-fno-math-errno", "-pthread"],
      "ldflags": ["-pthread"]
    }
  ]
}
