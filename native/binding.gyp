{
  "targets": [
    {
      "target_name": "mayfly_native",
      "sources": ["ecdsa_verify.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Werror", "-Wno-deprecated-declarations"]
    }
  ]
}
