{
  "targets": [
    {
      "target_name": "mayfly_native",
      "sources": ["ecdsa_verify.c"],
      "cflags": ["-Wall", "-Wextra", "-Wno-deprecated-declarations"]
    }
  ]
}
