"""The search for a picture inside a canvas (a border, padding to a square, a screenshot of a
page): ``content_box`` and ``Canvas``, which ``codec.detect`` searches when the whole image
shows no watermark and its frame is flat (see the codec's "Canvases")."""

from __future__ import annotations

from functools import cached_property

import cv2
import numpy as np

from .pixels import DETECT_MIN_SIDE, luminance

#: A canvas is searched for a picture inside it only when at least CANVAS_FRAME of the pixels
#: along its edges (a band of 1 % of its short side) are flat: a border, letterboxing, a page's
#: margins and a browser's bars are, where a photo's edges seldom are along most of its frame.
CANVAS_FRAME = 0.5
#: The picture's box is looked for on a grid of short side about CANVAS_GRID (``content_box``),
#: taken in by CANVAS_INSET of its sides (and LABEL_STEP grid pixels), and searched only if
#: it is at most CANVAS_MAX of the canvas (else the first search saw it all).
CANVAS_GRID = 512
CANVAS_INSET = 0.02
CANVAS_MAX = 0.9
#: ``_largest`` labels blocks on a grid LABEL_STEP times coarser than CANVAS_GRID's.
LABEL_STEP = 4


def _grey(rgb_or_y: np.ndarray) -> np.ndarray:
    """uint8 luminance of an RGB or luminance array."""
    if rgb_or_y.ndim == 3:
        if rgb_or_y.dtype == np.uint8:
            return cv2.cvtColor(np.ascontiguousarray(rgb_or_y), cv2.COLOR_RGB2GRAY)
        rgb_or_y = luminance(rgb_or_y)
    if rgb_or_y.dtype == np.uint8:
        return rgb_or_y
    return np.clip(np.rint(rgb_or_y), 0, 255).astype(np.uint8)


def _flat_share(strip: np.ndarray) -> float:
    """Share of a uint8 strip's pixels within one level of their right and lower neighbours."""
    # cv2's absdiff of uint8 is exact, and cheaper than numpy's int16 differences.
    rough = np.empty(strip.shape, np.uint8)
    rough[:, :-1] = cv2.absdiff(strip[:, 1:], strip[:, :-1]) > 1
    rough[:, -1] = 0
    rough[:-1] |= cv2.absdiff(strip[1:], strip[:-1]) > 1
    return (strip.size - cv2.countNonZero(rough)) / strip.size


def content_box(
    rgb_or_y: np.ndarray, most: float = CANVAS_MAX, least: int = DETECT_MIN_SIDE
) -> tuple[int, int, int, int] | None:
    """(x, y, width, height) of the picture inside a canvas, or None when the input does not
    look like one (its frame is not flat, or nothing inside stands out from the rest, or it
    is more than ``most`` of the canvas, or its short side is under ``least`` px).

    A border of one colour (letterboxing, padding to a square) is trimmed away; failing that,
    the picture is the largest hole in the page's flat background of any colours (``_holes``:
    a screenshot's page, its sidebars and bars around it); ``Canvas.boxes`` gives the next
    largest too.
    """
    return Canvas(rgb_or_y).box(most, least)


class Canvas:
    """``content_box``'s work on one image, each step done once on first use: a caller that
    asks for the box with other bounds (``detect``'s search, then a finer decode's test) does
    not measure the frame and look for the box again."""

    def __init__(self, rgb_or_y: np.ndarray) -> None:
        self.image = rgb_or_y

    @cached_property
    def framed(self) -> bool:
        """Whether the frame is flat enough for a canvas (CANVAS_FRAME)."""
        h, w = self.image.shape[:2]
        band = max(2, min(h, w) // 100)
        image = self.image
        strips = [image[:band], image[-band:], image[:, :band], image[:, -band:]]
        shares = [_flat_share(_grey(s).reshape(s.shape[:2])) for s in strips]
        sizes = [band * w, band * w, band * h, band * h]
        return bool(np.dot(shares, sizes) >= CANVAS_FRAME * sum(sizes))

    @cached_property
    def _small(self) -> np.ndarray:
        """The image's luminance on a grid of short side about CANVAS_GRID."""
        # An area resize keeps a constant region constant.
        h, w = self.image.shape[:2]
        k = min(h, w) / CANVAS_GRID
        small = _grey(self.image)
        if k > 1:
            small = cv2.resize(small, (round(w / k), round(h / k)), interpolation=cv2.INTER_AREA)
        return small

    @cached_property
    def _trimmed(self) -> tuple[int, int, int, int] | None:
        """``_trimmed``'s box on the grid of ``_small``."""
        return _trimmed(self._small)

    @cached_property
    def _still(self) -> np.ndarray:
        """``_still`` of ``_small`` (for narrowing its holes)."""
        return _still(self._small)

    @cached_property
    def _holes(self) -> list[tuple[int, int, int, int]]:
        """``_holes``' boxes on the grid of ``_small``."""
        return _holes(self._small)

    def boxes(
        self, most: float = CANVAS_MAX, least: int = DETECT_MIN_SIDE
    ) -> list[tuple[int, int, int, int]]:
        """The boxes that may be the picture, likeliest first: the trimmed box, or failing
        that up to CANVAS_CANDIDATES holes in the page (a page may show more than one photo)."""
        if not self.framed:
            return []
        small = self._small
        trimmed = self._trimmed
        # The holes are looked for only when the trimmed box is not the picture.
        if trimmed is not None and trimmed[2] * trimmed[3] <= most * small.size:
            found = [trimmed]
        else:
            found = self._holes
            # A largest hole over ``most`` is the whole image, searched already: what else
            # is busy in it is a part of it.
            if found and found[0][2] * found[0][3] > most * small.size:
                found = []
        h, w = self.image.shape[:2]
        k = w / small.shape[1]
        out = []
        for hole in found:
            # A hole narrowed (``_narrowings``), or whole; each searched if its short side is
            # at least ``least`` (a hole's first such only, unless it was narrowed past
            # TIGHT_LEAST: text above and below a picture in a card).
            tried, deep = ([hole], False) if hole == trimmed else _narrowings(self._still, hole)
            for bx, by, bw, bh in tried:
                dx = round(bw * CANVAS_INSET) + LABEL_STEP
                dy = round(bh * CANVAS_INSET) + LABEL_STEP
                x0, y0 = round((bx + dx) * k), round((by + dy) * k)
                x1, y1 = min(w, round((bx + bw - dx) * k)), min(h, round((by + bh - dy) * k))
                box = (x0, y0, x1 - x0, y1 - y0)
                if min(x1 - x0, y1 - y0) >= least and box not in out:
                    out.append(box)
                    if not deep:
                        break
        return out

    def box(
        self, most: float = CANVAS_MAX, least: int = DETECT_MIN_SIDE
    ) -> tuple[int, int, int, int] | None:
        """``content_box(image, most, least)``: the likeliest of ``boxes``."""
        found = self.boxes(most, least)
        return found[0] if found else None


#: A border row or column: at least BORDER_SHARE of its pixels within BORDER_LEVELS of the
#: frame's median level (JPEG rings next to the picture's edge).
BORDER_SHARE = 0.97
BORDER_LEVELS = 6
#: ... and a trimmed box is a picture only if at most BORDER_GAPS of its rows and of its
#: columns are such a row or column.
BORDER_GAPS = 0.03
#: ``_trimmed``'s shortcut: a line's share of the border's colour counted exactly, against
#: BORDER_SHARE less this (the shares cv2 averages in float32 are within 1e-6 of the exact).
TRIM_MARGIN = 1e-3


def _still(small: np.ndarray) -> np.ndarray:
    """0/1 map of the pixels constant over their 3x3 neighbourhood (a page's flat colours:
    JPEG keeps a flat block flat)."""
    gradient = cv2.morphologyEx(small, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))
    return (gradient == 0).view(np.uint8)


def _trimmed(small: np.ndarray) -> tuple[int, int, int, int] | None:
    """The box left when the rows and columns of the frame's colour are trimmed off each side,
    or None when nothing is trimmed or what is left is a page."""
    frame = np.concatenate([small[0], small[-1], small[:, 0], small[:, -1]])
    level = int(np.median(frame))
    low, high = max(0, level - BORDER_LEVELS), min(255, level + BORDER_LEVELS)
    # A picture reaching all four sides leaves nothing to trim, known from the frame's four
    # lines before the whole image is mapped (a photo's usual case): each under BORDER_SHARE of
    # the border's colour by a margin (TRIM_MARGIN) the float32 shares below cannot cross.
    h, w = small.shape
    lines = np.add.reduceat((frame >= low) & (frame <= high), [0, w, 2 * w, 2 * w + h])
    if np.all(lines < (BORDER_SHARE - TRIM_MARGIN) * np.array([w, w, h, h])):
        return None
    near = cv2.inRange(small, low, high)
    # Shares of each row and column (inRange gives 255 for in range).
    row_share = cv2.reduce(near, 1, cv2.REDUCE_AVG, dtype=cv2.CV_32F).ravel() / 255
    col_share = cv2.reduce(near, 0, cv2.REDUCE_AVG, dtype=cv2.CV_32F).ravel() / 255
    rows = np.flatnonzero(row_share < BORDER_SHARE)
    cols = np.flatnonzero(col_share < BORDER_SHARE)
    if len(rows) == 0 or len(cols) == 0:
        return None
    y0, y1, x0, x1 = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
    if (y0, x0, y1, x1) == (0, 0, *small.shape) or min(y1 - y0, x1 - x0) < 4:
        return None
    # Inside a picture hardly a row or column is the border's colour or the box's commonest
    # one (a page's); inside a page's box of text and pictures, the gaps between lines of text
    # are (a sidebar in the frame's colour trims off a page of another colour). The box's
    # colour is looked at only for a box the border's colour passes.
    inside = near[y0:y1, x0:x1]
    if _gaps(inside) > BORDER_GAPS:
        return None
    # ... nor flat over 3x3 in any colour: a page inset by its margin (a sidebar, a header
    # bar, a card of other colours than the margin's) has no row or column of the margin's
    # colour across it, but rows and columns flat along panels and gaps (a panel's edge is
    # a few pixels, under 1 - BORDER_SHARE of a line).
    if _gaps(cv2.bitwise_or(inside, _still(small[y0:y1, x0:x1]) * np.uint8(255))) > BORDER_GAPS:
        return None
    # ... a page's colour reaches the frame too; a flat backdrop inside a picture (an icon's
    # yellow) does not.
    box = small[y0:y1, x0:x1]
    level = int(np.argmax(cv2.calcHist([box], [0], None, [256], [0, 256])))
    low, high = max(0, level - BORDER_LEVELS), min(255, level + BORDER_LEVELS)
    if np.count_nonzero((frame >= low) & (frame <= high)) >= PANEL_FRAME * frame.size:
        page = cv2.inRange(box, low, high)
        if _gaps(cv2.bitwise_or(inside, page)) > BORDER_GAPS:
            return None
    return x0, y0, x1 - x0, y1 - y0


def _gaps(inside: np.ndarray) -> float:
    """The larger share of the rows or of the columns of a 0/255 map at least BORDER_SHARE set."""
    return max(
        float(
            np.mean(
                cv2.reduce(inside, axis, cv2.REDUCE_AVG, dtype=cv2.CV_32F) >= 255 * BORDER_SHARE
            )
        )
        for axis in (0, 1)
    )


#: Holes in a page's background narrower than PAGE_CLOSE grid pixels (its text, 5-8 px tall
#: on the grid for a screenshot's body text) are closed; a picture is not.
PAGE_CLOSE = 21
#: ... of a page: its colours cover at least PAGE_SHARE of it, and at least PAGE_FLAT of those
#: pixels are constant over their 3x3 neighbourhood. Measured on the reduced decodes of JPEG
#: screenshots (1920 wide, q75/85) and bordered or padded copies: 0.65-0.97 flat, 0.33-0.62
#: of the page (a page showing two photos at 80 % of its height beside each other: ~0.23); of
#: the samples at 1 MP (JPEG 90/60) at most 0.64 flat (the astronaut, 0.14 of it), the rocket
#: in its black sky 0.09/0.47 (0.24 of it).
PAGE_SHARE = 0.2
PAGE_FLAT = 0.6
#: A page's colours: its commonest level (within BORDER_LEVELS), and every level (within
#: PANEL_LEVELS) constant over 3x3 on at least PANEL_SHARE of the grid and on at least
#: PANEL_FRAME of the grid's outermost pixels: a sidebar, a header or footer, a browser's bars,
#: each its own colour and each reaching the screenshot's edge (on a 1920x1080 screen a 40 px
#: bar is 2 % of it). Were only the commonest level page, a sidebar would join the bars into
#: one block larger than the picture; were any flat level, a photo's smooth backdrop (the
#: astronaut's) would be page, and the photo cut.
PANEL_SHARE = 0.005
PANEL_FRAME = 0.005
PANEL_LEVELS = 2
#: Holes searched: at most CANVAS_CANDIDATES, the largest first, each after the first only if
#: at least CANDIDATE_SHARE of its area (two photos side by side; an unmarked page pays for
#: every one searched).
CANVAS_CANDIDATES = 2
CANDIDATE_SHARE = 0.25


def _holes(small: np.ndarray) -> list[tuple[int, int, int, int]]:
    """The boxes of the largest holes in the page's background (all its flat colours) once its
    text is closed over, largest first, or none: a screenshot's pictures, found by what
    surrounds them (a picture itself may be flat in places, its watermark erased there by
    JPEG)."""
    # A page is drawn: flat where it is its colours, which cover at least PAGE_SHARE of it, at
    # least PAGE_FLAT of them flat. An image with fewer flat pixels in all is no page, known
    # from its flat map alone (half a histogram's cost): a photo, even one whose commonest
    # level is a night sky or a dark backdrop (noisy; the rocket's is 0.07 flat), stops here.
    still = _still(small)
    flat_count = cv2.countNonZero(still)
    if flat_count < PAGE_FLAT * (PAGE_SHARE * small.size):
        return []
    hist = cv2.calcHist([small], [0], None, [256], [0, 256]).ravel()
    level = int(np.argmax(hist))
    common = np.zeros(256, bool)
    common[max(0, level - BORDER_LEVELS) : level + BORDER_LEVELS + 1] = True
    # The levels flat along the frame.
    frame = np.concatenate([small[0], small[-1], small[:, 0], small[:, -1]])
    edge = np.concatenate([still[0], still[-1], still[:, 0], still[:, -1]])
    reach = np.bincount(frame[edge > 0], minlength=256) >= PANEL_FRAME * frame.size
    # Counted from the histograms (exact in float32 up to 2^24 pixels; the grid is ~512 px on
    # its short side), before the flat pixels' (a masked histogram, the dearest step here):
    # the page's colours include its commonest level's, and no more of them are flat than
    # all its flat pixels.
    wide = common | _widened(reach & (hist >= PANEL_SHARE * small.size))
    if float(hist[wide].sum()) < PAGE_SHARE * small.size:
        return []
    if flat_count < PAGE_FLAT * float(hist[common].sum()):
        return []
    flat = cv2.calcHist([small], [0], still, [256], [0, 256]).ravel()
    colours = common | _widened(reach & (flat >= PANEL_SHARE * small.size))
    count = float(hist[colours].sum())
    if count < PAGE_SHARE * small.size or float(flat[colours].sum()) < PAGE_FLAT * count:
        return []
    page = cv2.LUT(small, common.astype(np.uint8) * np.uint8(255))
    # The other panels' colours only where flat and reaching the frame: a photo's smooth
    # backdrop of a bar's colour (the astronaut's, a footer's grey; an icon's flat yellow of
    # the tab strip's level) is neither.
    panel = cv2.LUT(small, (colours & ~common).astype(np.uint8))
    _, labels = cv2.connectedComponents(cv2.bitwise_and(panel, still), connectivity=4)
    edges = np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])
    reaching = np.zeros(int(labels.max()) + 1, np.uint8)
    reaching[edges] = 255
    reaching[0] = 0
    page = cv2.bitwise_or(page, reaching[labels])
    page = cv2.morphologyEx(page, cv2.MORPH_CLOSE, np.ones((PAGE_CLOSE, PAGE_CLOSE), np.uint8))
    return _largest(cv2.bitwise_not(page) // 255)


#: A hole's rows and columns at least EDGE_STILL constant over 3x3 are not the picture: a
#: card's padding and its lines of text (a caption, a byline) closed into the picture's hole.
#: Measured on Chromium screenshots: a short line of text 0.76 flat as PNG, 0.63-0.67 as JPEG 85;
#: a picture's rows 0-0.05, JPEG's ringing along its edge 0.3-0.44.
EDGE_STILL = 0.5
#: ... narrowed only to at least TIGHT_LEAST of its width and height: a card's byline and
#: caption left 0.76-0.96 of its side on Chromium screenshots, where a flat synthetic picture
#: (``C.jpg``, its flat half about 0.5 flat in a JPEG 85 page) would be cut to 0.61.
TIGHT_LEAST = 0.7


def _narrowings(
    still: np.ndarray, box: tuple[int, int, int, int]
) -> tuple[list[tuple[int, int, int, int]], bool]:
    """``box`` narrowed to its longest runs of rows and of columns under EDGE_STILL flat in
    the 0/1 map ``still`` (a picture; the lines of text and padding beside it are flat, and a
    card's soft shadow or rounded edge a few busy lines apart), and ``box`` whole, likeliest
    first; and whether all are to be searched (it was narrowed past TIGHT_LEAST) rather than
    the first large enough."""
    x, y, w, h = box
    part = still[y : y + h, x : x + w]
    rows = _run(cv2.reduce(part, 1, cv2.REDUCE_AVG, dtype=cv2.CV_32F).ravel() < EDGE_STILL)
    cols = _run(cv2.reduce(part, 0, cv2.REDUCE_AVG, dtype=cv2.CV_32F).ravel() < EDGE_STILL)
    if rows is None or cols is None:
        return [box], False
    narrowed = (x + cols[0], y + rows[0], cols[1] - cols[0], rows[1] - rows[0])
    deep_cols = cols[1] - cols[0] < TIGHT_LEAST * w
    deep_rows = rows[1] - rows[0] < TIGHT_LEAST * h
    if not deep_cols and not deep_rows:
        # A picture's own flat parts (a night sky, black at a screenshot's scale) may be cut
        # off with the text beside it: the hole whole is searched too, after.
        return [narrowed, box], True
    # Narrowed by more than TIGHT_LEAST a side, the hole may be a picture with paragraphs
    # above and below it in a card (a 450x300 picture in a 1280x800 screenshot: 0.45-0.55 of
    # the hole's height, and of its width in a wider card) or a picture with flat parts
    # (``C.jpg``'s flat half: 0.61 of its width): searched both ways. Only its columns so
    # narrowed, whole first (a flat picture's region then its own); its rows, narrowed first,
    # then its rows alone (a card's text is above and below, a flat picture's columns kept).
    if not deep_rows:
        return [box, narrowed], True
    if deep_cols:
        return [narrowed, (x, y + rows[0], w, rows[1] - rows[0]), box], True
    return [narrowed, box], True


def _run(busy: np.ndarray) -> tuple[int, int] | None:
    """(start, end) of the longest run of True in a bool line, or None if there is none."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], busy.view(np.int8), [0]])))
    if len(edges) == 0:
        return None
    starts, ends = edges[::2], edges[1::2]
    longest = int(np.argmax(ends - starts))
    return int(starts[longest]), int(ends[longest])


def _widened(levels: np.ndarray) -> np.ndarray:
    """The levels within PANEL_LEVELS of a set one (a 256 bool map)."""
    return np.convolve(levels.astype(np.float32), np.ones(2 * PANEL_LEVELS + 1), "same") > 0


def _largest(mask: np.ndarray) -> list[tuple[int, int, int, int]]:
    """The boxes of the largest 4-connected blocks of a 0/1 map (CANVAS_CANDIDATES,
    CANDIDATE_SHARE), largest first."""
    # Labelled on a grid LABEL_STEP times coarser (a cell set if most of it is): a noisy map
    # leaves thousands of specks, which cost labelling ~4 ms at 612x408, a tenth so.
    h, w = mask.shape
    cells = (w // LABEL_STEP, h // LABEL_STEP)
    coarse = cv2.resize(mask * np.uint8(255), cells, interpolation=cv2.INTER_AREA) >= 128
    count, _, stats, _ = cv2.connectedComponentsWithStats(coarse.view(np.uint8), connectivity=4)
    if count < 2:
        return []
    areas = stats[1:, cv2.CC_STAT_AREA]
    order = 1 + np.argsort(-areas, kind="stable")[:CANVAS_CANDIDATES]
    first = int(stats[order[0], cv2.CC_STAT_AREA])
    boxes = []
    fx, fy, fw, fh = (int(v) for v in stats[order[0], :4])
    for i in order:
        bx, by, bw, bh = (int(v) for v in stats[i, :4])
        # A block around the first (a page's panels, a card's frame) is no second picture.
        around = bx <= fx and by <= fy and bx + bw >= fx + fw and by + bh >= fy + fh
        if stats[i, cv2.CC_STAT_AREA] >= CANDIDATE_SHARE * first and (i == order[0] or not around):
            boxes.append((bx * LABEL_STEP, by * LABEL_STEP, bw * LABEL_STEP, bh * LABEL_STEP))
    return boxes
