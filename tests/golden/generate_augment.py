#!/usr/bin/python3
"""Writes the OpenCV golden files the augmentation tests compare against.

Run with Debian's python3-opencv (OpenCV 4.6) and numpy:
    /usr/bin/python3 tests/golden/generate_augment.py
The files are committed; the tests never need Python or OpenCV at run time.
albumentations itself is not needed: its 1.3 functions are restated below
(F.shift_scale_rotate, F.to_gray, F.pad_with_params) on top of cv2.

Same record format as generate.py (little-endian):
  u32 name length, name bytes, u32 rank, i32 dims[rank], f32 data[prod(dims)]
Images are stored as float32 arrays of their uint8 values, H x W x C.

augment_warp.bin
  "input.<i>"        H x W x C source images
  "case.<j>.params"  [input index, angle, scale, dx, dy, interpolation, border mode,
                      value count, value 0, value 1, value 2]
                     (angle, scale, dx, dy are float32 values, used as such here)
  "case.<j>.output"  F.shift_scale_rotate(input, angle, scale, dx, dy, ...)
augment_pad.bin
  "input"            7 x 5 x 3 image
  "case.<j>.params"  [top, bottom, left, right, border mode, value 0, value 1, value 2]
  "case.<j>.output"  cv2.copyMakeBorder(input, top, bottom, left, right, mode, value=(v0, v1, v2))
augment_gray.bin
  "input"            16 x 16 x 3 image
  "output"           16 x 16 x 3 image: F.to_gray(input)
"""
import os
import struct

import cv2
import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")


def write(path, tensors):
    with open(path, "wb") as f:
        for name, a in tensors:
            a = np.ascontiguousarray(np.asarray(a, dtype="<f4"))
            nb = name.encode()
            f.write(struct.pack("<I", len(nb)))
            f.write(nb)
            f.write(struct.pack("<I", a.ndim))
            f.write(struct.pack("<%di" % a.ndim, *a.shape))
            f.write(a.tobytes())


def hwc(a):
    return a if a.ndim == 3 else a[:, :, None]


def shift_scale_rotate(img, angle, scale, dx, dy, interpolation, border_mode, value):
    """albumentations 1.3 F.shift_scale_rotate."""
    height, width = img.shape[:2]
    center = (width / 2 - 0.5, height / 2 - 0.5)
    matrix = cv2.getRotationMatrix2D(center, angle, scale)
    matrix[0, 2] += dx * width
    matrix[1, 2] += dy * height
    return hwc(cv2.warpAffine(img, M=matrix, dsize=(width, height), flags=interpolation,
                              borderMode=border_mode, borderValue=value))


def to_gray(img):
    """albumentations 1.3 F.to_gray."""
    gray = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
    return cv2.cvtColor(gray, cv2.COLOR_GRAY2RGB)


def check_gray_formula():
    """The C++ formula (9798 R + 19235 G + 3735 B + 2^14) >> 15 against cv2, every colour."""
    v = np.arange(1 << 24, dtype=np.int64)
    rgb = np.stack([(v >> 16) & 255, (v >> 8) & 255, v & 255], -1)
    cv = cv2.cvtColor(rgb.astype(np.uint8).reshape(4096, 4096, 3), cv2.COLOR_RGB2GRAY).reshape(-1)
    ours = (rgb[:, 0] * 9798 + rgb[:, 1] * 19235 + rgb[:, 2] * 3735 + (1 << 14)) >> 15
    assert np.array_equal(cv.astype(np.int64), ours), "OpenCV's RGB2GRAY is not the 15-bit formula"


BORDERS = [cv2.BORDER_CONSTANT, cv2.BORDER_REPLICATE, cv2.BORDER_REFLECT, cv2.BORDER_WRAP, cv2.BORDER_REFLECT_101]


def warp_cases(rng):
    inputs = [rng.integers(0, 256, (11, 13, 3), dtype=np.uint8),
              rng.integers(0, 256, (12, 12, 1), dtype=np.uint8),
              rng.integers(0, 256, (16, 14, 3), dtype=np.uint8)]
    # A smooth image too, where rounding differences would show as +-1.
    yy, xx = np.mgrid[0:16, 0:14]
    inputs[2] = np.stack([(xx * 17 + yy * 3) % 256, (yy * 15) % 256, (xx * yy) % 256], -1).astype(np.uint8)
    cases = []
    f32 = lambda x: float(np.float32(x))
    # Random draws with albumentations' default limits, every border mode and interpolation.
    for mode in BORDERS:
        for interp in (cv2.INTER_LINEAR, cv2.INTER_NEAREST):
            for i in range(len(inputs)):
                angle = f32(rng.uniform(-45, 45))
                scale = f32(rng.uniform(0.9, 1.1))
                dx, dy = f32(rng.uniform(-0.0625, 0.0625)), f32(rng.uniform(-0.0625, 0.0625))
                cases.append((i, angle, scale, dx, dy, interp, mode))
    # Larger motions, exact angles, pure shifts.
    for (i, angle, scale, dx, dy, interp, mode) in [
            (0, 90.0, 1.0, 0.0, 0.0, cv2.INTER_LINEAR, cv2.BORDER_CONSTANT),
            (1, -90.0, 1.0, 0.0, 0.0, cv2.INTER_LINEAR, cv2.BORDER_REFLECT_101),
            (1, 180.0, 1.0, 0.0, 0.0, cv2.INTER_NEAREST, cv2.BORDER_CONSTANT),
            (2, 0.0, 1.0, f32(0.25), f32(-0.125), cv2.INTER_LINEAR, cv2.BORDER_CONSTANT),
            (2, 0.0, 1.0, f32(0.1), f32(0.3), cv2.INTER_LINEAR, cv2.BORDER_WRAP),
            (0, f32(30.0), f32(0.5), f32(0.2), f32(0.1), cv2.INTER_LINEAR, cv2.BORDER_REFLECT),
            (2, f32(-170.0), f32(1.7), f32(-0.3), f32(0.05), cv2.INTER_LINEAR, cv2.BORDER_REPLICATE),
            (1, f32(12.5), f32(0.75), f32(0.5), f32(-0.5), cv2.INTER_LINEAR, cv2.BORDER_REFLECT_101),
            (0, f32(-33.3), f32(1.25), 0.0, 0.0, cv2.INTER_NEAREST, cv2.BORDER_WRAP)]:
        cases.append((i, angle, scale, dx, dy, interp, mode))
    tensors = [("input.%d" % i, im) for i, im in enumerate(inputs)]
    for j, (i, angle, scale, dx, dy, interp, mode) in enumerate(cases):
        img = inputs[i]
        channels = img.shape[2]
        value = [10.0, 200.0, 77.0][:channels] if mode == cv2.BORDER_CONSTANT else [0.0] * channels
        src = img if channels > 1 else img[:, :, 0]
        out = shift_scale_rotate(src, angle, scale, dx, dy, interp, mode, tuple(value) + (0.0,) * (4 - channels))
        padded = value + [0.0] * (3 - channels)
        tensors.append(("case.%d.params" % j, np.array([i, angle, scale, dx, dy, interp, mode, channels] + padded)))
        tensors.append(("case.%d.output" % j, out))
    write(os.path.join(OUT, "augment_warp.bin"), tensors)


def pad_cases(rng):
    img = rng.integers(0, 256, (7, 5, 3), dtype=np.uint8)
    tensors = [("input", img)]
    j = 0
    for mode in BORDERS:
        for (t, b, l, r) in [(4, 4, 4, 4), (1, 2, 0, 3), (9, 8, 12, 6)]:
            value = (9.0, 99.0, 199.0)
            out = cv2.copyMakeBorder(img, t, b, l, r, mode, value=value + (0.0,))
            tensors.append(("case.%d.params" % j, np.array([t, b, l, r, mode, *value])))
            tensors.append(("case.%d.output" % j, out))
            j += 1
    write(os.path.join(OUT, "augment_pad.bin"), tensors)


def gray_case(rng):
    img = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
    write(os.path.join(OUT, "augment_gray.bin"), [("input", img), ("output", to_gray(img))])


def main():
    print("OpenCV", cv2.__version__)
    check_gray_formula()
    rng = np.random.default_rng(20240601)
    warp_cases(rng)
    pad_cases(rng)
    gray_case(rng)


if __name__ == "__main__":
    main()
