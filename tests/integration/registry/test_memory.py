# SPDX-License-Identifier: Apache-2.0
"""Memory stays flat: pulling the ~200 MB layer of the 'large' fixture (and pushing it again)
keeps regtool's peak RSS (VmHWM, read by regtool itself at the end) under 32 MiB. Nothing is
timed."""

import os

from regtest import main, sha256_file

LIMIT_KB = 32 * 1024


def body(tap, env):
    reg = env.registry("https")
    large = env.push_fixture("large", reg, "fixtures/large:oci")
    c = env.client("memory")
    opts = ["--registry-certificate", f"{reg.host}={reg.ca_cert}"]
    _, r, _ = c.run(*opts, "resolve", large["reference"])
    layer = max(r["layers"], key=lambda x: x["size"])
    tap.ok(layer["size"] > 150 * 1024 * 1024, f"the large layer is {layer['size']} bytes")
    repo = f"{reg.host}/fixtures/large"

    _, r, _ = c.run(*opts, "fetch", repo, layer["digest"], layer["size"])
    tap.eq(r["sink_digest"], layer["digest"], "streamed into a hashing sink: right bytes")
    tap.ok(r["peak_rss_kb"] < LIMIT_KB, f"pull into a sink: peak RSS {r['peak_rss_kb']} KiB "
                                        f"< {LIMIT_KB} KiB")

    out = os.path.join(c.dir, "layer.bin")
    _, r, _ = c.run(*opts, "fetch", repo, layer["digest"], layer["size"], "--out", out)
    tap.eq(sha256_file(out), layer["digest"], "pull into a file: right bytes")
    tap.ok(r["peak_rss_kb"] < LIMIT_KB, f"pull into a file: peak RSS {r['peak_rss_kb']} KiB "
                                        f"< {LIMIT_KB} KiB")

    _, r, _ = c.run(*opts, "push-blob", f"{reg.host}/test/large", out)
    tap.eq(r["result"], "uploaded", "push of the large layer")
    tap.ok(r["peak_rss_kb"] < LIMIT_KB, f"push from a file: peak RSS {r['peak_rss_kb']} KiB "
                                        f"< {LIMIT_KB} KiB")
    _, r, _ = c.run(*opts, "push-blob", f"{reg.host}/test/large-stream", out, "--stream")
    tap.ok(r["peak_rss_kb"] < LIMIT_KB, f"push from a stream: peak RSS {r['peak_rss_kb']} "
                                        f"KiB < {LIMIT_KB} KiB")
    os.unlink(out)
    _, r, _ = c.run(*opts, "fetch", f"{reg.host}/test/large", layer["digest"], layer["size"])
    tap.eq(r["sink_digest"], layer["digest"], "the pushed layer reads back intact")


if __name__ == "__main__":
    main("memory", body)
