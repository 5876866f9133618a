{
  "targets": [
    {
      "target_name": "realm_native",
      "sources": ["<!@(node -p \"require('fs').readdirSync('native/src').filter(f=>f.endsWith('.cc')).map(f=>'native/src/'+f).join(' ')\")"],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<!@(node native/detect-openblas.js include)"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "<!@(node native/detect-openblas.js defines)"],
      "libraries": ["<!@(node native/detect-openblas.js libs)"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++1y", "-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-O3", "-Wall", "-fno-math-errno", "-fno-trapping-math", "-pthread"],
      "ldflags": ["-pthread"],
      "xcode_settings": {
        "OTHER_CPLUSPLUSFLAGS": ["-std=c++17", "-O3", "-Wall", "-fno-math-errno", "-fno-trapping-math"],
        "MACOSX_DEPLOYMENT_TARGET": "11.0"
      }
    }
  ]
}
