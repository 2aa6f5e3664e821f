"""Benchmark of booking-token verification and size; prints JSON lines (bench tooling)."""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import statistics
import sys
import time
from datetime import date
from pathlib import Path

import segno
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from contracts.bookingcode import (  # noqa: E402
    BookingClaims,
    KeyInfo,
    public_key_bytes,
    sign_booking,
    verify_token,
)


def emit(name: str, value: float, unit: str, n: int) -> None:
    print(json.dumps({"name": name, "value": value, "unit": unit, "n": n}), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Time booking-token verification.")
    parser.add_argument("--runs", type=int, default=5000, help="verifications to time")
    args = parser.parse_args(argv)
    key = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"bench key").digest())
    keys = {"d1": KeyInfo("d1", public_key_bytes(key))}
    typical = BookingClaims("B7K2M9QX0A", "demo-station", "V", date(2026, 3, 16), 540, 570,
                            1773676800, "张*三", True)
    largest = BookingClaims("Z" * 10, "demo-station", "VV", date(2140, 1, 1), 1439, 1440,
                            2**32 - 1, "\U00020000*\U0002a6d6", True)
    token = sign_booking(typical, key, "d1")
    for _ in range(100):  # warm caches and the key object
        verify_token(token, keys)
    samples = []
    gc.collect()
    gc.disable()  # a collection inside one sample is not the verifier's cost
    for _ in range(args.runs):
        start = time.perf_counter_ns()
        verify_token(token, keys)
        samples.append((time.perf_counter_ns() - start) / 1e6)
    gc.enable()
    cuts = statistics.quantiles(samples, n=100)
    emit("token_verify_p50", round(cuts[49], 4), "ms", args.runs)
    emit("token_verify_p99", round(cuts[98], 4), "ms", args.runs)
    emit("token_length_typical", len(token), "chars", 1)
    emit("token_qr_version_m_typical", segno.make(token, error="m", micro=False).version,
         "version", 1)
    biggest = sign_booking(largest, key, "abcd")
    emit("token_length_max", len(biggest), "chars", 1)
    emit("token_qr_version_m_max", segno.make(biggest, error="m", micro=False).version,
         "version", 1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
