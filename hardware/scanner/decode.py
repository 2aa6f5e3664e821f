"""Barcode decoding of still images and camera frames: QR Code and Code 128 only (hardware layer).

The default engine is zxing-cpp. When zxing-cpp *sees* a QR code but cannot
read it (it reports a candidate with a checksum/format error), a few fallback
passes run; frames with no code at all never pay for them. Each pass was kept
because it decodes images of the photo set that the passes before it miss
(see bench/bench_scanner.py, which prints the rate with and without them):

    zxing plain (try_rotate, try_downscale, try_invert on)   92 / 101
    + zxing with the GlobalHistogram binarizer                +2  (blurred, uneven light)
    + OpenCV's curved-QR decoder                              +2  (paper bent on a curve)
    + zxing on the candidate's quad with its module grid unbent  +4  (strongly bent, blurred)

Measured and rejected (no gain on top of these, or losses on their own):
pyzbar as a further fallback, 1.5-3x upscaling, unsharp masking, CLAHE,
gamma, Otsu / adaptive thresholds, median and bilateral filters, zxing's
FixedThreshold / BoolCast binarizers, is_pure, try_downscale / try_invert off,
0.5-1.25x rescaling, small rotations, morphological open / close, cropping
to the candidate, a plain perspective warp of its quad (with or without
jittered corners), OpenCV's QRCodeDetectorAruco. One strongly bent photo in
qrcode-4 (33) is still missed.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from hardware.scanner.errors import EngineUnavailable, ScannerConfigError, UnreadableImage

ENGINES = ("zxing", "pyzbar")


def decode_codes(image: Any, *, engine: str = "zxing", fallbacks: bool = True) -> list[str]:
    """Return the distinct texts of QR / Code 128 codes in `image`, in the order found.

    `image` is a numpy array (gray, BGR or BGRA), a PIL image or a file path.
    `fallbacks=False` runs only the engine's plain pass (for benchmarks).
    Raises UnreadableImage for a file that is not an image, EngineUnavailable
    when the engine cannot be loaded, ScannerConfigError for an unknown engine.
    """
    gray = to_gray(image)
    if gray.shape[0] < 2 or gray.shape[1] < 2:
        return []  # zxing-cpp rejects 1-pixel images; nothing can hide in them anyway
    if engine == "zxing":
        texts = _zxing_chain(gray, fallbacks)
    elif engine == "pyzbar":
        texts = _pyzbar_chain(gray, fallbacks)
    else:
        raise ScannerConfigError(f"unknown decode engine {engine!r}; choose one of {ENGINES}")
    return list(dict.fromkeys(texts))


def to_gray(image: Any) -> np.ndarray:
    """Turn a path, PIL image or numpy array into a contiguous 8-bit gray array."""
    if isinstance(image, str | os.PathLike):
        image = load_image(Path(image))
    if not isinstance(image, np.ndarray):
        image = _pil_to_gray(image)
    arr = image
    if arr.dtype != np.uint8:
        # float frames in 0..1 come from some pipelines; anything else is clipped
        scale = 255.0 if arr.dtype.kind == "f" and float(arr.max(initial=0)) <= 1.0 else 1.0
        arr = np.clip(arr * scale, 0, 255).astype(np.uint8)
    if arr.ndim == 3:
        cv2 = _cv2()
        channels = arr.shape[2]
        if channels == 1:
            arr = arr[:, :, 0]
        elif channels == 3:
            arr = cv2.cvtColor(arr, cv2.COLOR_BGR2GRAY)
        elif channels == 4:
            arr = cv2.cvtColor(arr, cv2.COLOR_BGRA2GRAY)
        else:
            raise ScannerConfigError(f"cannot decode an image with {channels} channels")
    elif arr.ndim != 2:
        raise ScannerConfigError(f"cannot decode an array of shape {arr.shape}")
    return np.ascontiguousarray(arr)


def load_image(path: Path) -> np.ndarray:
    """Load an image file as gray; every way of failing becomes UnreadableImage."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            im.load()
            return _pil_to_gray(im)
    except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError) as err:
        raise UnreadableImage(f"{path}: {err}") from err


def _pil_to_gray(im: Any) -> np.ndarray:
    from PIL import Image

    if not isinstance(im, Image.Image):
        raise ScannerConfigError(f"cannot decode a {type(im).__name__}")
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        # a transparent background converts to black and swallows the quiet zone
        backdrop = Image.new("RGBA", im.size, (255, 255, 255, 255))
        im = Image.alpha_composite(backdrop, im.convert("RGBA"))
    return np.asarray(im.convert("L"))


# -- zxing-cpp -----------------------------------------------------------------


@cache
def _zxing() -> Any:
    try:
        import zxingcpp
    except ImportError as err:
        raise EngineUnavailable(f"zxing-cpp is not installed: {err}") from err
    return zxingcpp


def _zxing_read(gray: np.ndarray, binarizer: Any = None) -> tuple[list[str], list[Any]]:
    """One zxing-cpp pass: (valid texts, the QR candidates it saw but could not read)."""
    zx = _zxing()
    wanted = (zx.BarcodeFormat.QRCode, zx.BarcodeFormat.Code128)
    results = zx.read_barcodes(
        gray,
        formats=list(wanted),
        text_mode=zx.TextMode.Plain,  # raw content: GS1 separators stay as \x1d, no "(01)"
        binarizer=binarizer if binarizer is not None else zx.Binarizer.LocalAverage,
        return_errors=True,
    )
    # the QRCode family also yields Micro/rMQR candidates; only real QR and Code 128 count
    texts = [r.text for r in results if r.valid and r.format in wanted]
    candidates = [r for r in results if not r.valid and r.format == zx.BarcodeFormat.QRCode]
    return texts, candidates


def _zxing_chain(gray: np.ndarray, fallbacks: bool) -> list[str]:
    texts, candidates = _zxing_read(gray)
    if texts or not fallbacks or not candidates:
        return texts
    for attempt in _FALLBACKS:
        texts = attempt(gray)
        if texts:
            return texts
    # the costliest pass last, and on the first candidate only: that bounds the time a
    # frame with an unreadable code costs (about 10 ms at version 3, 35 ms at version 10)
    return _fallback_unbend(gray, candidates[0])


def _fallback_global_histogram(gray: np.ndarray) -> list[str]:
    return _zxing_read(gray, _zxing().Binarizer.GlobalHistogram)[0]


def _fallback_curved(gray: np.ndarray) -> list[str]:
    cv2 = _cv2()
    try:
        text, _points, _straight = _qr_detector().detectAndDecodeCurved(gray)
    except cv2.error:
        return []  # OpenCV's curved path asserts on some degenerate contours
    return [text] if text else []


# Unbending: zxing samples a QR on a straight grid between its corners, so paper
# bent on a curve shifts the modules in the middle off that grid. The pass below
# warps the candidate's quad to a square of _MODULE_PX pixels per module, then
# measures where module edges really are: the edge strength projected on the
# module frequency gives, per neighbourhood, the phase (= shift) of the grid.
# Resampling by that shift straightens the grid; a wide neighbourhood first
# (large bends), a narrower one second (local ones), because a single narrow
# pass tears where the shift is near half a module. Module size 6 and widths
# (4, 2) modules sit in the middle of the settings that read the bent photos.
_MODULE_PX = 6
_QUIET_MODULES = 2
_UNBEND_WIDTHS = (4.0, 2.0)  # Gaussian sigma of the phase neighbourhood, in modules
_MAX_UNBEND_VERSION = 10  # covers booking tokens; bigger symbols cost too much here


def _fallback_unbend(gray: np.ndarray, candidate: Any) -> list[str]:
    """Re-read a seen-but-unreadable QR after straightening its module grid."""
    cv2 = _cv2()
    extra = getattr(candidate, "extra", None)
    version = extra.get("Version") if isinstance(extra, dict) else None
    if not (isinstance(version, str) and version.isdigit()):
        return []
    if not 1 <= int(version) <= _MAX_UNBEND_VERSION:
        return []
    size = (17 + 4 * int(version)) * _MODULE_PX  # a version-v QR is 17 + 4v modules wide
    pos = candidate.position
    corners = (pos.top_left, pos.top_right, pos.bottom_right, pos.bottom_left)
    src = np.array([[c.x, c.y] for c in corners], dtype=np.float32)
    m = _QUIET_MODULES * _MODULE_PX  # a multiple of the module size keeps edges on k * px
    dst = np.array([[m, m], [m + size, m], [m + size, m + size], [m, m + size]],
                   dtype=np.float32)
    square = cv2.warpPerspective(
        gray,
        cv2.getPerspectiveTransform(src, dst),
        (size + 2 * m, size + 2 * m),
        flags=cv2.INTER_CUBIC,
        borderMode=cv2.BORDER_REPLICATE,
    )
    return _zxing_read(_unbend(square))[0]


def _unbend(square: np.ndarray) -> np.ndarray:
    """Resample `square` (a warped QR, grid on multiples of _MODULE_PX) so its grid is straight."""
    h, w = square.shape
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    map_x, map_y = xs, ys
    current = square
    for width in _UNBEND_WIDTHS:
        shift_x = _grid_shift(current, axis=1, sigma=width * _MODULE_PX)
        shift_y = _grid_shift(current, axis=0, sigma=width * _MODULE_PX)
        # compose: the new map reads the old map at the shifted spot, so the shifts add up
        at_x, at_y = xs + shift_x, ys + shift_y
        map_x, map_y = (_remap(mp, at_x, at_y) for mp in (map_x, map_y))
        current = _remap(square, map_x, map_y)
    return current


def _remap(img: np.ndarray, map_x: np.ndarray, map_y: np.ndarray) -> np.ndarray:
    cv2 = _cv2()
    out: np.ndarray = cv2.remap(img, map_x, map_y, cv2.INTER_LINEAR,
                                borderMode=cv2.BORDER_REPLICATE)
    return out


def _grid_shift(img: np.ndarray, axis: int, sigma: float) -> np.ndarray:
    """Per pixel, how far (in px along `axis`) module edges sit from the multiples of _MODULE_PX."""
    cv2 = _cv2()
    dx, dy = (1, 0) if axis == 1 else (0, 1)
    edges = np.abs(cv2.Sobel(img.astype(np.float32), cv2.CV_32F, dx, dy, ksize=3))
    phase = 2 * np.pi * np.arange(img.shape[axis], dtype=np.float32) / _MODULE_PX
    phase = phase[None, :] if axis == 1 else phase[:, None]
    # smoothing the complex sum (not the angle) lets strong edges outvote blank areas
    re = cv2.GaussianBlur(edges * np.cos(phase), (0, 0), sigma)
    im = cv2.GaussianBlur(edges * np.sin(phase), (0, 0), sigma)
    shift: np.ndarray = np.arctan2(im, re) * (_MODULE_PX / (2 * np.pi))
    return shift


_FALLBACKS: tuple[Callable[[np.ndarray], list[str]], ...] = (
    _fallback_global_histogram,
    _fallback_curved,
)


# -- pyzbar --------------------------------------------------------------------


@cache
def _pyzbar() -> Any:
    try:
        from pyzbar import pyzbar
    except (ImportError, OSError) as err:  # OSError/ImportError: libzbar0 missing
        raise EngineUnavailable(
            f"pyzbar cannot load libzbar ({err}); install the Debian package libzbar0"
        ) from err
    return pyzbar


def _pyzbar_read(gray: np.ndarray) -> list[str]:
    pz = _pyzbar()
    symbols = [pz.ZBarSymbol.QRCODE, pz.ZBarSymbol.CODE128]
    return [_zbar_text(r.data) for r in pz.decode(gray, symbols=symbols)]


def _zbar_text(data: bytes) -> str:
    # zbar hands QR text over as UTF-8 already; Code 128 extended bytes are Latin-1
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _pyzbar_chain(gray: np.ndarray, fallbacks: bool) -> list[str]:
    texts = _pyzbar_read(gray)
    if texts or not fallbacks:
        return texts
    # zbar has no "seen but unreadable" signal, so its fallback is one cheap pass only
    return _fallback_curved(gray)


# -- OpenCV --------------------------------------------------------------------


@cache
def _cv2() -> Any:
    try:
        import cv2
    except ImportError as err:
        raise EngineUnavailable(f"OpenCV (opencv-python-headless) is missing: {err}") from err
    return cv2


_local = threading.local()


def _qr_detector() -> Any:
    # cv2.QRCodeDetector keeps state between calls; one per thread keeps cameras independent
    det = getattr(_local, "qr_detector", None)
    if det is None:
        det = _local.qr_detector = _cv2().QRCodeDetector()
    return det


def decoders() -> Iterable[str]:
    """Names of the engines that load on this machine."""
    for name, loader in (("zxing", _zxing), ("pyzbar", _pyzbar)):
        try:
            loader()
        except EngineUnavailable:
            continue
        yield name
