{
  # The arsync native addon: plain C on node_api.h, liburing for the uring engine.
  # Strict C11 with -pedantic; _GNU_SOURCE only exposes Linux APIs we need
  # (O_PATH, O_NOATIME, copy_file_range, statx, memrchr), it does not change the language.
  "targets": [
    {
      "target_name": "arsync",
      "sources": [
        "native/addon.c",
        "native/ctxapi.c",
        "native/offthread.c",
        "native/ring.c",
        "native/pipeline.c",
        "native/copy.c",
        "native/reflink.c",
        "native/meta.c",
        "native/walk.c",
        "native/listing.c",
        "native/quickcheck.c",
        "native/scanpair.c",
        "native/direct.c",
        "native/tree.c",
        "native/treedirty.c",
        "native/ops.c",
        "native/adopt.c",
        "native/exec.c",
        "native/dest.c",
        "native/beneath.c",
        "native/temp.c",
        "native/partial.c",
        "native/backup.c",
        "native/longpath.c",
        "native/source.c",
        "native/args.c",
        "native/errors.c",
        "native/checksum.c",
        "native/basissum.c",
        "native/sendread.c",
        "native/pipes.c",
        "native/rmtree.c",
        "native/stagefile.c",
        "native/listcurrent.c",
        "native/flistwalk.c",
        "native/flistenc.c",
        "native/flistsort.c",
        "native/streamlist.c",
        "native/deltamatch.c",
        "native/md5.c",
        "native/fakesuper.c",
        "native/aclio.c",
        "native/aclids.c",
        "native/aclmode.c",
        "native/xattrio.c",
        "native/xfilter.c",
        "native/iconv.c"
      ],
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE"],
      "cflags_c": ["-std=c11", "-pedantic", "-O2", "-fvisibility=hidden", "-Wall", "-Wextra"],
      "libraries": ["-luring", "-pthread"],
      "configurations": {
        "Release": {
          "cflags!": ["-O3"],
          "cflags": ["-O2"]
        }
      }
    }
  ]
}
