"""Benchmark of the scanner decode path: real photo set and synthetic booking QR frames (hardware).

Prints one JSON line per figure: {"name", "value", "unit", "n"}. Times are
medians (p50) and p99 of decode_codes() on an image already in memory, the
way camera frames arrive.

    .venv/bin/python bench/bench_scanner.py [--frames 60] [--seed 7]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import segno

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hardware.scanner.decode import decode_codes, to_gray  # noqa: E402

PHOTOS = Path("/work/shared/data/barcode-photos")
BASE45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"


def emit(name: str, value: float, unit: str, n: int) -> None:
    print(json.dumps({"name": name, "value": round(value, 4), "unit": unit, "n": n}), flush=True)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


# -- photo set -----------------------------------------------------------------


def load_photo_set() -> list[tuple[str, np.ndarray, str | None]]:
    items = []
    for folder in sorted(p for p in PHOTOS.iterdir() if p.is_dir()):
        for img in sorted(folder.iterdir()):
            if img.suffix in (".webp", ".png", ".jpg"):
                txt = img.with_suffix(".txt")
                # read bytes: several codes carry CRLF, which read_text() would turn into LF
                expected = txt.read_bytes().decode("utf-8") if txt.exists() else None
                items.append((folder.name, to_gray(img), expected))
    return items


def bench_photos() -> None:
    if not PHOTOS.is_dir():
        print(f"# photo set not found at {PHOTOS}; skipped", file=sys.stderr)
        return
    items = load_photo_set()
    variants: dict[str, Callable[[np.ndarray], list[str]]] = {
        "photos.zxing_full": lambda g: decode_codes(g),
        "photos.zxing_plain": lambda g: decode_codes(g, fallbacks=False),
        "photos.pyzbar_plain": lambda g: decode_codes(g, engine="pyzbar", fallbacks=False),
        "photos.pyzbar_full": lambda g: decode_codes(g, engine="pyzbar"),
    }
    for label, decode in variants.items():
        per_set: dict[str, list[bool]] = {}
        false_pos = 0
        times: list[float] = []
        for set_name, gray, expected in items:
            start = time.perf_counter()
            codes = decode(gray)
            times.append((time.perf_counter() - start) * 1000)
            if expected is None:
                false_pos += bool(codes)
            else:
                per_set.setdefault(set_name, []).append(expected in codes)
        if label == "photos.zxing_full":
            for set_name, oks in per_set.items():
                emit(f"{label}.rate.{set_name}", sum(oks) / len(oks), "fraction", len(oks))
        everything = [ok for oks in per_set.values() for ok in oks]
        emit(
            f"{label}.rate.overall", sum(everything) / len(everything), "fraction", len(everything)
        )
        n_fp = sum(1 for _, _, e in items if e is None)
        emit(f"{label}.false_positives", false_pos, "images", n_fp)
        emit(f"{label}.p50", statistics.median(times), "ms", len(times))
        emit(f"{label}.p99", percentile(times, 0.99), "ms", len(times))


# -- synthetic booking frames ------------------------------------------------


def booking_token(rng: random.Random, length: int = 180) -> str:
    """Stand-in booking token: "BK1:" + base45 text. Replace when the real format lands."""
    return "BK1:" + "".join(rng.choice(BASE45) for _ in range(length - 4))


def qr_frame(text: str, rng: random.Random, scale: int = 5) -> np.ndarray:
    """A 640x480 BGR frame with the QR (error level M) somewhere on a light-gray desk."""
    modules = np.pad(np.array(segno.make_qr(text, error="m").matrix, np.uint8), 4)
    code = np.kron((1 - modules) * 235 + 10, np.ones((scale, scale), np.uint8)).astype(np.uint8)
    frame = np.full((480, 640), 200, np.uint8)
    h, w = code.shape
    # keep the centre in the middle third so a 45 degree turn stays inside the frame
    y = 240 - h // 2 + rng.randint(-20, 20)
    x = 320 - w // 2 + rng.randint(-60, 60)
    frame[y : y + h, x : x + w] = code
    return frame


def rotate(frame: np.ndarray, degrees: float) -> np.ndarray:
    m = cv2.getRotationMatrix2D((320, 240), degrees, 1.0)
    return cv2.warpAffine(frame, m, (640, 480), borderValue=200)


def skew(frame: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    src = np.float32([[0, 0], [640, 0], [640, 480], [0, 480]])
    dst = src + rng.uniform(-70, 70, (4, 2)).astype(np.float32)
    return cv2.warpPerspective(
        frame, cv2.getPerspectiveTransform(src, dst), (640, 480), borderValue=200
    )


def degradations(np_rng: np.random.Generator) -> dict[str, Callable[[np.ndarray], np.ndarray]]:
    return {
        "clean": lambda f: f,
        "rotate15": lambda f: rotate(f, 15),
        "rotate45": lambda f: rotate(f, 45),
        "perspective": lambda f: skew(f, np_rng),
        "blur_sigma1.5": lambda f: cv2.GaussianBlur(f, (0, 0), 1.5),
        "noise_sigma25": lambda f: np.clip(f + np_rng.normal(0, 25, f.shape), 0, 255).astype(
            np.uint8
        ),
        "low_contrast": lambda f: (f.astype(np.float32) * 0.25 + 100).astype(np.uint8),
        "blur_sigma2.5": lambda f: cv2.GaussianBlur(f, (0, 0), 2.5),
        # what a hurried resident produces: tilted, skewed, soft and grainy at once
        "combined": lambda f: np.clip(
            cv2.GaussianBlur(skew(rotate(f, 25), np_rng), (0, 0), 1.2) * 0.5
            + 70
            + np_rng.normal(0, 12, f.shape),
            0,
            255,
        ).astype(np.uint8),
    }


def bench_synthetic(frames: int, seed: int) -> None:
    rng = random.Random(seed)
    np_rng = np.random.default_rng(seed)
    for name, degrade in degradations(np_rng).items():
        ok = 0
        times: list[float] = []
        for _ in range(frames):
            token = booking_token(rng)
            bgr = cv2.cvtColor(degrade(qr_frame(token, rng)), cv2.COLOR_GRAY2BGR)
            start = time.perf_counter()
            codes = decode_codes(bgr)
            times.append((time.perf_counter() - start) * 1000)
            ok += codes == [token]
        emit(f"synthetic.{name}.rate", ok / frames, "fraction", frames)
        emit(f"synthetic.{name}.p50", statistics.median(times), "ms", frames)
    empty = np.full((480, 640, 3), 200, np.uint8)
    times = []
    for _ in range(frames):
        start = time.perf_counter()
        decode_codes(empty)
        times.append((time.perf_counter() - start) * 1000)
    emit("synthetic.no_code.p50", statistics.median(times), "ms", frames)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=60, help="frames per degradation (>= 50)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    bench_photos()
    bench_synthetic(args.frames, args.seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
