"""A tiny sequence-diagram renderer (pure Python, no Graphviz, no browser script).

Used by ``conf.py`` to draw the sign-in sequence as an SVG at build time.
"""

from __future__ import annotations

from html import escape

PARTICIPANTS = ("Browser", "Your app (GoogleFlow)", "Session backend", "Google")

#: (from, to, label, dashed) — indexes into PARTICIPANTS.
STEPS = (
    (0, 1, "GET /authorize?next=/profile", False),
    (1, 2, "put pending flow {verifier, nonce, next} keyed by state, TTL", False),
    (1, 0, "302 → Google (state, code_challenge=S256(verifier), nonce)", True),
    (0, 3, "sign in + consent", False),
    (3, 0, "302 → /oauth2callback?code&state&iss", True),
    (0, 1, "GET /oauth2callback?code&state&iss", False),
    (1, 2, "pop pending flow by state (single use, unexpired, this session)", False),
    (1, 3, "POST token: code + code_verifier + client_secret", False),
    (3, 1, "access/refresh token + ID token", True),
    (1, 1, "verify ID token: RS256 (cached certs), iss, aud, exp, nonce, hd", False),
    (1, 1, "store(credentials, id_info); rotate session id", False),
    (1, 0, "302 → /profile", True),
)

COLUMN = 230
ROW = 44
TOP = 60
LEFT = 120


def render() -> str:
    """The SVG document as a string."""
    width = LEFT * 2 + COLUMN * (len(PARTICIPANTS) - 1)
    height = TOP + ROW * (len(STEPS) + 1) + 20
    xs = [LEFT + COLUMN * i for i in range(len(PARTICIPANTS))]
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" font-family="system-ui, sans-serif" font-size="12">',
        "<title>Sign-in sequence: /authorize, Google, /oauth2callback</title>",
        "<style>text{paint-order:stroke;stroke:white;stroke-width:4px;"
        "stroke-linejoin:round;fill:#222}</style>",
        "<defs><marker id='arrow' viewBox='0 0 10 10' refX='10' refY='5' markerWidth='7' "
        "markerHeight='7' orient='auto-start-reverse'><path d='M0,0 L10,5 L0,10 z' "
        "fill='#333'/></marker></defs>",
        f'<rect width="{width}" height="{height}" fill="white"/>',
    ]
    bottom = height - 10
    for x, name in zip(xs, PARTICIPANTS, strict=True):
        out.append(
            f'<rect x="{x - 95}" y="10" width="190" height="30" rx="5" '
            'fill="#eef3fd" stroke="#4285f4"/>'
        )
        out.append(
            f'<text x="{x}" y="30" text-anchor="middle" font-weight="bold">{escape(name)}</text>'
        )
        out.append(
            f'<line x1="{x}" y1="40" x2="{x}" y2="{bottom}" stroke="#999" stroke-dasharray="4 4"/>'
        )
    for index, (src, dst, label, dashed) in enumerate(STEPS):
        y = TOP + ROW * (index + 1)
        dash = ' stroke-dasharray="6 4"' if dashed else ""
        text = escape(f"{index + 1}. {label}")
        if src == dst:
            x = xs[src]
            out.append(
                f'<path d="M{x},{y - 8} h30 v16 h-30" fill="none" stroke="#333" '
                f'marker-end="url(#arrow)"/>'
            )
            out.append(f'<text x="{x + 36}" y="{y + 4}">{text}</text>')
            continue
        x1, x2 = xs[src], xs[dst]
        out.append(
            f'<line x1="{x1}" y1="{y}" x2="{x2}" y2="{y}" stroke="#333"{dash} '
            f'marker-end="url(#arrow)"/>'
        )
        middle = (x1 + x2) / 2
        out.append(f'<text x="{middle}" y="{y - 6}" text-anchor="middle">{text}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def write(path: str) -> None:
    """Write the SVG to *path* (only when it changed, so Sphinx rebuilds stay incremental)."""
    svg = render()
    try:
        with open(path, encoding="utf-8") as handle:
            if handle.read() == svg:
                return
    except FileNotFoundError:
        pass
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(svg)
