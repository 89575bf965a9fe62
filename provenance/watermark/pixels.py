"""What the codec (``codec``) and its search for a picture inside a canvas (``canvas``) both
read: the luminance of an image, and the smallest image detection reads. Here so that the
canvas search needs nothing from the codec, which calls it."""

from __future__ import annotations

import numpy as np

#: Detection reads smaller images too (the base grid is then an up-sampling): a 1 MP image
#: resized to 25 % (188-250 px short side) still decodes. Marked photos resized to a 188 / 170
#: / 150 px short side decoded 22 / 20 / 12 of 23; 300 unmarked images at 130-197 px gave no
#: false detection (highest sync z 4.9). Under 176 px the tiles are too few to be worth it.
DETECT_MIN_SIDE = 176


def luminance(rgb: np.ndarray) -> np.ndarray:
    rgb = rgb.astype(np.float32)
    return 0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]
