{
  "targets": [
    {
      "target_name": "corosync_native",
      "sources": ["native/qbshm.c"],
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter", "-O2"],
      "libraries": ["-lpthread"]
    }
  ]
}
