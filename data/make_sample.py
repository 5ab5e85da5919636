"""Rebuild the generated parts of the bundled sample under data/sources/.

    python data/make_sample.py            # writes data/sources/ (keeps committed photos)

Everything written here is original text by the Commons contributors (CC0-1.0) or public-domain
text quoted in full; the photographs come from scikit-image's bundled sample data (public domain
or CC0, see data/SOURCES.md) and are only re-encoded when scikit-image is installed. The output is
byte-for-byte deterministic: fixed dates, fixed WARC record ids, gzip members without timestamps.
"""

from __future__ import annotations

import io
import json
import math
import struct
import zlib
from pathlib import Path

from PIL import Image, ImageDraw
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

HERE = Path(__file__).resolve().parent
SOURCES = HERE / "sources"
CRAWL_DATE = "2026-11-18T09:{minute:02d}:00Z"

# --------------------------------------------------------------------------------------------
# Web archive: five fictional sites with different licences and consent signals.

NAV = (
    '<header><nav><a href="/">Home</a> | <a href="/about">About</a> | <a href="/contact">Contact</a>'
    ' | <a href="/subscribe">Subscribe</a></nav></header>'
)
COOKIE = (
    '<div class="cookie-banner">We use cookies to improve your experience. '
    "<button>Accept all</button> <button>Settings</button></div>"
)


def html_page(site: str, title: str, paragraphs: list[str], head: str = "", foot: str = "") -> str:
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title} | {site}</title>{head}</head>
<body>{COOKIE}{NAV}
<main><article><h1>{title}</h1>
<p class="byline">Published 2026-11-02</p>
{body}
</article></main>
<aside><h3>Popular this week</h3><ul><li><a href="/a">Ten things about tides</a></li>
<li><a href="/b">Our opening hours</a></li></ul></aside>
<footer><p>{foot}</p><p><a href="/privacy">Privacy</a> · <a href="/imprint">Imprint</a></p></footer>
</body></html>"""


MUSEUM = "https://museum.example.org"
NEWS = "https://news.example.net"
BLOG = "https://blog.example.com"
GOV = "https://records.example.gov"
REVIEWS = "https://reviews.example.io"
WIKI = "https://wiki.example.edu"

ASTROLABE = [
    "The brass astrolabe that arrived in our conservation studio last spring had spent two "
    "centuries in a damp attic. Its rete, the pierced plate that maps the brightest stars, was "
    "bent at three points and green with corrosion.",
    "Our conservators first documented every mark under raking light. They then removed the "
    "active corrosion with a fine glass-fibre brush, working under a microscope, and left the "
    "stable dark patina in place because it is part of the object's history.",
    "The bent pointers were not straightened. Metal that has been worked cold for so long "
    "becomes brittle, and a crack would destroy more evidence than the bend hides. Instead we "
    "built a support mount that holds the rete without stress.",
    "Visitors can now see the astrolabe in the navigation gallery, next to a replica that they "
    "may handle to learn how sailors and astronomers measured the altitude of the sun.",
]
WEAVING = [
    "The textile collection holds more than four hundred hand-woven bands from mountain villages, "
    "each made on a narrow backstrap loom. The patterns repeat every few centimetres and encode "
    "the weaver's family and village.",
    "Weavers we interviewed explained that a band is never finished in one sitting. The work "
    "follows the seasons: wool is spun in winter, dyed with plants in early summer and woven "
    "when the fields allow time.",
    "This article and its photographs may be reused under the licence below, provided the "
    "weavers and the museum are credited.",
]
MAPS = [
    "Our digitised map collection now includes one hundred and twelve coastal charts printed "
    "before 1850. All of them are in the public domain, and we release the scans without "
    "restriction.",
    "Each scan was made at six hundred pixels per inch with a colour target in the frame, so that "
    "researchers can compare inks and papers across printers.",
    "The charts show harbours, sandbanks and lighthouses as sailors knew them. Some were corrected "
    "by hand after storms moved the channels, and those corrections are visible in the scans. "
    "Researchers have already used them to trace how the estuary changed over a century.",
]
PREVIEW = [
    "Members receive this preview of the winter exhibition two weeks before it opens. The text "
    "will change before publication and is reserved for members.",
    "The exhibition brings together clocks, sundials and calendars from five centuries and asks "
    "how people agreed on what time it was before railways needed a common clock.",
    "Members may bring one guest to the preview evening. The galleries open at six, and the "
    "curators give short talks every half hour. Please book your place by the end of the month.",
]
REPORT = [
    "The annual report summarises acquisitions, loans and visitor numbers for the year. The "
    "museum welcomed more visitors than in any year since it reopened.",
    "Press materials are provided for journalists reporting on the museum and are not offered "
    "for text and data mining.",
    "Three major loans travelled abroad this year. The conservation studio treated more than two "
    "hundred objects. The education team welcomed over nine thousand pupils to workshops.",
]
HARBOUR = [
    "The harbour board voted on Tuesday to extend the breakwater by eighty metres, ending a "
    "debate that had divided the town for two winters.",
    "Fishermen had argued that the longer wall would protect the moorings from the north-easterly "
    "storms that damaged six boats last January. Residents of the old quarter feared that the "
    "construction traffic would block the only road to the quay.",
    "The board promised a temporary road along the beach during the works, which are expected to "
    "start in March and last eighteen months.",
    "The cost will be shared between the town and the regional fisheries fund. A public meeting "
    "on the construction schedule is planned for next month in the harbour hall.",
]
BLOG_NC = [
    "I have been repairing my grandmother's sewing machine for three weekends now. The motor "
    "works, the belt was replaced, and the bobbin case finally turns without a sound.",
    "The hardest part was the tension spring. It had been bent so many times that it no longer "
    "held its shape, and I had to order one from a collector in another country.",
    "Next week I will try to sew a straight seam on heavy cotton. If it works, the machine will "
    "go back to my grandmother's table where it belongs.",
]
BLOG_BY = [
    "Sourdough bread needs three things: a lively starter, time, and a little patience with "
    "yourself. My first loaves were flat and sour, and that is fine.",
    "Feed the starter the evening before you bake. In the morning it should have doubled and "
    "smell of yoghurt rather than vinegar. Mix flour, water and starter, rest, then add salt.",
    "Fold the dough every half hour for two hours, shape it, and let it rise slowly in a cool "
    "place overnight. Bake it hot, in a covered pot, and let it cool before cutting.",
]
GOV_PD = [
    "This guide explains how to request copies of land survey records held by the records office. "
    "Survey plats filed before 1900 are available as scans; later plats may be ordered on paper.",
    "Requests are answered in the order they arrive, usually within ten working days. Certified "
    "copies carry a seal and may take longer. Questions go to copies@records.example.gov or, on "
    "weekdays, to +1 202 555 0143.",
    "As a work of the federal government, this guide is in the public domain in the United "
    "States and may be copied without permission.",
]
REVIEW = [
    "The folding bicycle we tested this month weighs eleven kilograms and folds in about fifteen "
    "seconds once you have practised twice.",
    "It rides well on city streets, although the small wheels feel every cobblestone. The gears "
    "shift cleanly, and the brakes stopped the bike in the rain without drama.",
    "We recommend it for commuters who combine cycling with trains, less for long weekend rides.",
    "The luggage rack holds a small bag, and the mudguards kept our trousers dry. The lights are "
    "powered by a hub dynamo, so there are no batteries to forget.",
]
WIKI_TIDES = [
    "Tides are the regular rise and fall of the sea surface caused by the gravitational pull of "
    "the Moon and the Sun together with the rotation of the Earth.",
    "Most coasts have two high tides and two low tides each lunar day of about twenty-four hours "
    "and fifty minutes. The range between high and low water depends on the shape of the coast.",
    "Spring tides, with the largest range, occur near new and full moon, when the Sun and the "
    "Moon pull along the same line. Neap tides occur near the quarter moons.",
]
WIKI_CAFE = [
    "Das Café am Markt wurde 1898 eröffnet und ist für seine Mohnschnecken bekannt. Über der "
    "Theke hängt noch die ursprüngliche Uhr mit römischen Ziffern.",
    "Die Besitzerin erzählt, dass die Rezepte nie aufgeschrieben wurden: Jede Bäckerin hat sie "
    "von der vorigen gelernt, Gramm für Gramm und Handgriff für Handgriff.",
    "Am Samstag bildet sich vor der Tür oft eine lange Schlange. Die Stammgäste sitzen trotzdem "
    "stundenlang an den kleinen Marmortischen und lesen Zeitung. Im Sommer stehen zusätzliche "
    "Tische auf dem Marktplatz.",
]

CC_BY = '<link rel="license" href="https://creativecommons.org/licenses/by/4.0/">'
CC0 = '<link rel="license" href="https://creativecommons.org/publicdomain/zero/1.0/">'
CC_BY_NC = '<a rel="license" href="http://creativecommons.org/licenses/by-nc/4.0/">CC BY-NC 4.0</a>'
CC_BY_SA_JSONLD = (
    '<script type="application/ld+json">{"@context":"https://schema.org","@type":"Article",'
    '"headline":"Weaving traditions","license":"https://creativecommons.org/licenses/by-sa/4.0/",'
    '"author":{"@type":"Organization","name":"Open Museum"}}</script>'
)


class Warc:
    """A deterministic WARC writer: fixed record ids and dates."""

    def __init__(self, gzip: bool) -> None:
        self.out = io.BytesIO()
        self.writer = WARCWriter(self.out, gzip=gzip, warc_version="WARC/1.1")
        self.count = 0

    def _headers(self) -> dict[str, str]:
        self.count += 1
        return {
            "WARC-Record-ID": f"<urn:uuid:c0ffee00-0000-4000-8000-{self.count:012d}>",
            "WARC-Date": CRAWL_DATE.format(minute=self.count % 60),
        }

    def warcinfo(self, filename: str) -> None:
        record = self.writer.create_warcinfo_record(
            filename,
            {"software": "Commons sample generator", "description": "Sample crawl, CC0-1.0"},
        )
        record.rec_headers.replace_header("WARC-Record-ID", self._headers()["WARC-Record-ID"])
        record.rec_headers.replace_header("WARC-Date", CRAWL_DATE.format(minute=0))
        self.writer.write_record(record)

    def response(
        self,
        uri: str,
        body: str | bytes,
        content_type: str = "text/html; charset=utf-8",
        status: str = "200 OK",
        headers: tuple[tuple[str, str], ...] = (),
        with_request: bool = False,
    ) -> None:
        if with_request:
            request = StatusAndHeaders(
                f"GET {uri.split('/', 3)[-1] and '/' + uri.split('/', 3)[-1]} HTTP/1.1",
                [("Host", uri.split("/")[2]), ("User-Agent", "CommonsSampleBot/0.1")],
                is_http_request=True,
            )
            self.writer.write_record(
                self.writer.create_warc_record(
                    uri, "request", http_headers=request, warc_headers_dict=self._headers()
                )
            )
        data = body.encode("utf-8") if isinstance(body, str) else body
        http = StatusAndHeaders(
            status, [("Content-Type", content_type), *headers], protocol="HTTP/1.1"
        )
        self.writer.write_record(
            self.writer.create_warc_record(
                uri,
                "response",
                payload=io.BytesIO(data),
                length=len(data),
                http_headers=http,
                warc_headers_dict=self._headers(),
            )
        )

    def bytes(self) -> bytes:
        return self.out.getvalue()


def tiny_jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "navy").save(out, format="JPEG", quality=70)
    return out.getvalue()


def crawl_a() -> bytes:
    warc = Warc(gzip=True)
    warc.warcinfo("crawl-2026-11-a.warc.gz")
    # Open museum: permissive robots.txt, licences in link/JSON-LD, one TDMRep-reserved path.
    warc.response(
        f"{MUSEUM}/robots.txt",
        "User-agent: *\nAllow: /\n\nSitemap: https://museum.example.org/sitemap.xml\n",
        "text/plain",
    )
    warc.response(
        f"{MUSEUM}/.well-known/tdmrep.json",
        json.dumps(
            [
                {
                    "location": "/press/*",
                    "tdm-reservation": 1,
                    "tdm-policy": f"{MUSEUM}/tdm-policy.json",
                }
            ],
            indent=1,
        ),
        "application/json",
    )
    warc.response(
        f"{MUSEUM}/articles/restoring-the-astrolabe",
        html_page(
            "Open Museum",
            "Restoring the astrolabe",
            ASTROLABE,
            CC_BY,
            "Text CC BY 4.0, Open Museum.",
        ),
        with_request=True,
    )
    warc.response(
        f"{MUSEUM}/articles/weaving-traditions",
        html_page(
            "Open Museum",
            "Weaving traditions",
            WEAVING,
            CC_BY_SA_JSONLD,
            "Text CC BY-SA 4.0, Open Museum and the weavers.",
        ),
    )
    warc.response(
        f"{MUSEUM}/collection/coastal-charts",
        html_page("Open Museum", "Coastal charts before 1850", MAPS, CC0, "Scans CC0."),
    )
    warc.response(
        f"{MUSEUM}/members/winter-preview",
        html_page(
            "Open Museum",
            "Winter exhibition preview",
            PREVIEW,
            '<meta name="tdm-reservation" content="1">' + CC_BY,
            "Members only.",
        ),
    )
    warc.response(
        f"{MUSEUM}/press/annual-report-2026",
        html_page("Open Museum", "Annual report 2026", REPORT, CC_BY, "Press office."),
    )
    warc.response(f"{MUSEUM}/images/astrolabe-thumb.jpg", tiny_jpeg(), "image/jpeg")
    # A tag listing: navigation only, no article text (the clean stage drops it with a reason).
    tags = "".join(f'<li><a href="/articles/{n}">Article {n}</a></li>' for n in range(1, 13))
    warc.response(
        f"{MUSEUM}/tags/navigation",
        f"<html><head><title>Tag: navigation</title></head><body>{NAV}<ul>{tags}</ul>"
        "<footer>Open Museum</footer></body></html>",
    )
    # News site: blocks AI-training crawlers, aipref Content-Usage in robots.txt and headers.
    warc.response(
        f"{NEWS}/robots.txt",
        "User-agent: GPTBot\nDisallow: /\n\nUser-agent: CCBot\nDisallow: /\n\n"
        "User-agent: *\nAllow: /\nDisallow: /search\nContent-Usage: train-ai=n\n",
        "text/plain",
    )
    warc.response(
        f"{NEWS}/local/harbour-breakwater-vote",
        html_page(
            "Harbour Town Courier",
            "Board votes to extend the breakwater",
            HARBOUR,
            foot="© 2026 Harbour Town Courier. All rights reserved.",
        ),
        headers=(("Content-Usage", "train-ai=n"),),
        with_request=True,
    )
    warc.response(
        f"{NEWS}/local/missing-story",
        "<html><body><h1>Not found</h1></body></html>",
        status="404 Not Found",
    )
    # Personal blog: no site files fetched; one NC post, one CC BY post that says tdm-reservation 0.
    warc.response(
        f"{BLOG}/2026/10/sewing-machine",
        html_page(
            "Ada's workbench",
            "Fixing grandmother's sewing machine",
            BLOG_NC,
            foot=f"This post is licensed {CC_BY_NC}.",
        ),
    )
    warc.response(
        f"{BLOG}/2026/11/sourdough",
        html_page(
            "Ada's workbench", "Sourdough without fear", BLOG_BY, CC_BY, "CC BY 4.0 Ada Example."
        ),
        headers=(("tdm-reservation", "0"),),
    )
    # Records office: robots.txt answered 503 (RFC 9309: assume complete disallow), ai.txt.
    warc.response(
        f"{GOV}/robots.txt",
        "Service temporarily unavailable",
        "text/plain",
        status="503 Service Unavailable",
    )
    warc.response(
        f"{GOV}/ai.txt",
        "# Spawning AI\n# Prevent datasets from using the following file types\n"
        "User-Agent: *\nDisallow: *.jpg\nDisallow: *.png\n",
        "text/plain",
    )
    warc.response(
        f"{GOV}/guides/land-survey-copies",
        html_page(
            "Records Office",
            "Requesting copies of land survey records",
            GOV_PD,
            foot="A U.S. Government work, in the public domain.",
        ),
    )
    # Review site: Cloudflare-style Content-Signal in robots.txt.
    warc.response(
        f"{REVIEWS}/robots.txt",
        "# As a condition of accessing this website, you agree to abide by the following\n"
        "# content signals.\nUser-agent: *\nContent-Signal: search=yes, ai-train=no\nAllow: /\n",
        "text/plain",
    )
    warc.response(
        f"{REVIEWS}/bikes/folding-commuter-test",
        html_page(
            "Everyday Reviews",
            "Tested: a folding commuter bike",
            REVIEW,
            CC_BY,
            "Reviews CC BY 4.0.",
        ),
    )
    return warc.bytes()


def crawl_b() -> bytes:
    """A plain (uncompressed) WARC with a record whose header was damaged in transit, to show
    the quarantine: the records before and after it still come through."""
    warc = Warc(gzip=False)
    warc.warcinfo("crawl-2026-11-b.warc")
    warc.response(f"{WIKI}/robots.txt", "User-agent: *\nDisallow: /private/\n", "text/plain")
    warc.response(
        f"{WIKI}/wiki/Tides",
        html_page(
            "Campus Wiki",
            "Tides",
            WIKI_TIDES,
            '<link rel="license" href="https://creativecommons.org/licenses/by-sa/4.0/">',
            "Text available under CC BY-SA 4.0.",
        ),
    )
    damaged_start = len(warc.bytes())
    warc.response(
        f"{WIKI}/wiki/Lighthouses",
        html_page("Campus Wiki", "Lighthouses", ["A page that was damaged in transit."]),
    )
    damaged_end = len(warc.bytes())
    # windows-1252 page whose charset is declared only in a <meta> tag.
    cafe = html_page(
        "Campus Wiki",
        "Café am Markt",
        WIKI_CAFE,
        '<link rel="license" href="https://creativecommons.org/licenses/by-sa/4.0/">',
        "Text available under CC BY-SA 4.0.",
    )
    cafe = cafe.replace('<meta charset="utf-8">', '<meta charset="windows-1252">')
    warc.response(f"{WIKI}/wiki/Cafe_am_Markt", cafe.encode("cp1252"), "text/html")
    data = bytearray(warc.bytes())
    segment = bytes(data[damaged_start:damaged_end]).replace(
        b"WARC/1.1\r\n", b"WARC/1.1 \x00\r\n", 1
    )
    data[damaged_start:damaged_end] = segment.replace(b"Content-Length", b"Content-Lngth", 1)
    return bytes(data)


def robots_captures() -> bytes:
    """robots.txt captures kept apart from the pages, as Common Crawl publishes them in their own
    WARC files: the blog's robots.txt is in no crawl of the sample but this one (site_policies
    finds it for the blog's pages in crawl-2026-11-a)."""
    warc = Warc(gzip=True)
    warc.warcinfo("robotstxt-2026-11.warc.gz")
    warc.response(
        f"{BLOG}/robots.txt",
        "User-agent: *\nAllow: /\n\nUser-agent: Bytespider\nDisallow: /drafts/\n",
        "text/plain",
    )
    return warc.bytes()


# --------------------------------------------------------------------------------------------
# Text collections.

GETTYSBURG = (
    "Four score and seven years ago our fathers brought forth on this continent, a new nation, "
    "conceived in Liberty, and dedicated to the proposition that all men are created equal.\n\n"
    "Now we are engaged in a great civil war, testing whether that nation, or any nation so "
    "conceived and so dedicated, can long endure. We are met on a great battle-field of that war. "
    "We have come to dedicate a portion of that field, as a final resting place for those who "
    "here gave their lives that that nation might live. It is altogether fitting and proper that "
    "we should do this.\n\n"
    "But, in a larger sense, we can not dedicate -- we can not consecrate -- we can not hallow -- "
    "this ground. The brave men, living and dead, who struggled here, have consecrated it, far "
    "above our poor power to add or detract. The world will little note, nor long remember what "
    "we say here, but it can never forget what they did here. It is for us the living, rather, to "
    "be dedicated here to the unfinished work which they who fought here have thus far so nobly "
    "advanced. It is rather for us to be here dedicated to the great task remaining before us -- "
    "that from these honored dead we take increased devotion to that cause for which they gave "
    "the last full measure of devotion -- that we here highly resolve that these dead shall not "
    "have died in vain -- that this nation, under God, shall have a new birth of freedom -- and "
    "that government of the people, by the people, for the people, shall not perish from the "
    "earth."
)
SONNET_18 = (
    "Shall I compare thee to a summer's day?\nThou art more lovely and more temperate:\n"
    "Rough winds do shake the darling buds of May,\nAnd summer's lease hath all too short a date;\n"
    "Sometime too hot the eye of heaven shines,\nAnd often is his gold complexion dimm'd;\n"
    "And every fair from fair sometime declines,\nBy chance or nature's changing course untrimm'd;\n"
    "But thy eternal summer shall not fade,\nNor lose possession of that fair thou ow'st;\n"
    "Nor shall Death brag thou wander'st in his shade,\nWhen in eternal lines to time thou grow'st:\n"
    "So long as men can breathe or eyes can see,\nSo long lives this, and this gives life to thee."
)
OZYMANDIAS = (
    'I met a traveller from an antique land,\nWho said—"Two vast and trunkless legs of stone\n'
    "Stand in the desert. . . . Near them, on the sand,\nHalf sunk a shattered visage lies, whose "
    "frown,\nAnd wrinkled lip, and sneer of cold command,\nTell that its sculptor well those "
    "passions read\nWhich yet survive, stamped on these lifeless things,\nThe hand that mocked "
    "them, and the heart that fed;\nAnd on the pedestal, these words appear:\nMy name is "
    "Ozymandias, King of Kings;\nLook on my Works, ye Mighty, and despair!\nNothing beside "
    "remains. Round the decay\nOf that colossal Wreck, boundless and bare\nThe lone and level "
    'sands stretch far away."'
)
NEW_COLOSSUS = (
    "Not like the brazen giant of Greek fame,\nWith conquering limbs astride from land to land;\n"
    "Here at our sea-washed, sunset gates shall stand\nA mighty woman with a torch, whose flame\n"
    "Is the imprisoned lightning, and her name\nMother of Exiles. From her beacon-hand\n"
    "Glows world-wide welcome; her mild eyes command\nThe air-bridged harbor that twin cities "
    'frame.\n"Keep, ancient lands, your storied pomp!" cries she\nWith silent lips. "Give me '
    "your tired, your poor,\nYour huddled masses yearning to breathe free,\nThe wretched refuse "
    "of your teeming shore.\nSend these, the homeless, tempest-tost to me,\nI lift my lamp "
    'beside the golden door!"'
)
PREAMBLE = (
    "We the People of the United States, in Order to form a more perfect Union, establish "
    "Justice, insure domestic Tranquility, provide for the common defence, promote the general "
    "Welfare, and secure the Blessings of Liberty to ourselves and our Posterity, do ordain and "
    "establish this Constitution for the United States of America."
)

CLASSICS = [
    {
        "id": "gettysburg-address",
        "title": "Gettysburg Address",
        "author": "Abraham Lincoln",
        "date": "1863-11-19",
        "language": "en",
        "text": GETTYSBURG,
    },
    {
        "id": "sonnet-18",
        "title": "Sonnet 18",
        "author": "William Shakespeare",
        "date": "1609",
        "language": "en",
        "text": SONNET_18,
    },
    {
        "id": "ozymandias",
        "title": "Ozymandias",
        "author": "Percy Bysshe Shelley",
        "date": "1818-01-11",
        "language": "en",
        "text": OZYMANDIAS,
    },
    {
        "id": "the-new-colossus",
        "title": "The New Colossus",
        "author": "Emma Lazarus",
        "date": "1883",
        "language": "en",
        "text": NEW_COLOSSUS,
    },
    {
        "id": "us-constitution-preamble",
        "title": "Preamble to the Constitution of the United States",
        "author": "Constitutional Convention",
        "date": "1787-09-17",
        "language": "en",
        "licence": "Public domain (U.S. government work)",
        "text": PREAMBLE,
    },
]

GARDEN = (
    "The community garden on Mill Street began with six raised beds and a borrowed hose. Ten "
    "years later it feeds forty households, hosts a seed library and runs a Saturday school "
    "where children learn to compost, plant and harvest.\n\nThe gardeners decide together what "
    "to grow. Each spring they meet in the library, share the seed catalogue and agree on a plan "
    "that leaves space for experiments: last year a retired teacher grew twelve kinds of beans."
)
BICYCLE = (
    "A bicycle repair café opens every first Sunday in the old fire station. Volunteers bring "
    "tools, visitors bring broken bikes, and together they fix brakes, gears and punctures. "
    "Nobody pays, but everybody learns: the rule is that the owner holds the spanner."
)
RIVER = (
    "Volunteers measured the river's water quality every month for five years. Their data show "
    "that nitrate levels fell after farms upstream planted buffer strips along the banks, and "
    "that the first otters returned in the fourth year."
)
LIBRARY = (
    "The village library lends more than books. Its shelves hold a sewing machine, a telescope, "
    "a pasta maker and thirty board games, each with a card that says who donated it and how to "
    "care for it."
)
CHOIR = (
    "Our choir recorded the songbook in a single afternoon in the town hall. Every singer signed "
    "the same agreement: the recordings may be studied, but not used to imitate our voices."
)
ORCHARD = (
    "The old orchard behind the school has seventeen apple varieties, some of which grow nowhere "
    "else in the region. Pupils graft new trees every March so that none of the varieties is lost."
)
MIXED = [
    {
        "id": "mill-street-garden",
        "title": "Ten years of the Mill Street garden",
        "language": "en",
        "text": GARDEN,
    },
    {
        "id": "repair-cafe",
        "title": "The repair café",
        "licence": "CC-BY-SA-4.0",
        "language": "en",
        "text": BICYCLE,
    },
    {
        "id": "river-watch",
        "title": "River watch",
        "language": "en",
        "licence": "https://creativecommons.org/licenses/by-nc/4.0/",
        "text": RIVER,
    },
    {
        "id": "library-of-things",
        "title": "A library of things",
        "language": "en",
        "licence": "All rights reserved",
        "text": LIBRARY,
    },
    {
        "id": "choir-recording",
        "title": "Recording the songbook",
        "language": "en",
        "licence": "http://rightsstatements.org/vocab/InC/1.0/",
        "text": CHOIR,
    },
    {
        "id": "school-orchard",
        "title": "The school orchard",
        "language": "en",
        "licence": "Creative Commons Attribution 4.0 International",
        "text": ORCHARD,
    },
    {
        "id": "repair-cafe-manual",
        "title": "Repair café volunteer manual",
        "language": "en",
        "licence": "GPL-2.0",
        "text": BICYCLE + " The manual lists the tools every table needs.",
    },
    {
        "id": "garden-reprint",
        "title": "Ten years of the Mill Street garden (newsletter reprint)",
        "language": "en",
        "licence": "CC0-1.0",
        "text": GARDEN,
    },
    {
        "id": "orchard-notes",
        "title": "Orchard notes",
        "language": "en",
        "licence": "see our website",
        "text": ORCHARD.replace("seventeen", "eighteen"),
    },
    {
        # The wiki's "Tides" page, copied into the newsletter with a few words changed: the same
        # work arrives once as a web page and once in a text collection (a near-duplicate).
        "id": "tides-explained",
        "title": "Tides, explained",
        "language": "en",
        "licence": "CC-BY-SA-4.0",
        "author": "Campus Wiki contributors",
        "text": "\n\n".join(WIKI_TIDES).replace("regular rise", "daily rise"),
    },
    {
        "id": "raffle-notice",
        "title": "Raffle notice",
        "language": "en",
        "text": "\n".join(["Raffle tickets on sale at the garden gate this Saturday."] * 6),
    },
]


# --------------------------------------------------------------------------------------------
# Image collections.

SKIMAGE_PHOTOS = [
    # name, file in skimage/data, title, creator, licence as stated by scikit-image
    (
        "astronaut",
        "astronaut.png",
        "Astronaut Eileen Collins",
        "NASA",
        "https://creativecommons.org/publicdomain/mark/1.0/",
    ),
    (
        "camera",
        "camera.png",
        "Man with a camera",
        "Lav Varshney",
        "https://creativecommons.org/publicdomain/zero/1.0/",
    ),
    (
        "chelsea",
        "chelsea.png",
        "Chelsea the cat",
        "Stefan van der Walt",
        "https://creativecommons.org/publicdomain/zero/1.0/",
    ),
    (
        "coffee",
        "coffee.png",
        "A cup of coffee",
        "Rachel Michetti",
        "https://creativecommons.org/publicdomain/zero/1.0/",
    ),
    (
        "rocket",
        "rocket.jpg",
        "Falcon 9 rocket on the launch pad",
        "SpaceX",
        "https://creativecommons.org/publicdomain/mark/1.0/",
    ),
    (
        "hubble-deep-field",
        "hubble_deep_field.jpg",
        "Hubble eXtreme Deep Field",
        "NASA",
        "https://creativecommons.org/publicdomain/mark/1.0/",
    ),
    (
        "horse",
        "horse.png",
        "Silhouette of a horse",
        "Andreas Preuss (marauder)",
        "https://creativecommons.org/publicdomain/zero/1.0/",
    ),
    (
        "coins",
        "coins.png",
        "Greek coins from Pompeii",
        "Brooklyn Museum",
        "http://rightsstatements.org/vocab/NKC/1.0/",
    ),
]
MAX_SIDE = 512


def reencode(source: Path, target: Path, max_side: int = MAX_SIDE, quality: int = 82) -> None:
    with Image.open(source) as image:
        image = image.convert("RGB")
        image.thumbnail((max_side, max_side))
        target.parent.mkdir(parents=True, exist_ok=True)
        image.save(target, format="JPEG", quality=quality, optimize=True)


def skimage_collection(folder: Path) -> None:
    files = folder / "files"
    try:
        import skimage
    except ImportError:
        skimage = None
    if skimage is not None:
        data = Path(skimage.__file__).parent / "data"
        for name, filename, *_ in SKIMAGE_PHOTOS:
            reencode(data / filename, files / f"{name}.jpg")
        # A smaller, recompressed copy of the same photograph: a near-duplicate for dedupe.
        reencode(data / "chelsea.png", files / "chelsea-small.jpg", max_side=240, quality=60)
    records = [
        {
            "id": name,
            "file": f"files/{name}.jpg",
            "title": title,
            "creator": creator,
            "licence": licence,
            "source_url": "https://scikit-image.org/docs/stable/api/skimage.data.html",
        }
        for name, _, title, creator, licence in SKIMAGE_PHOTOS
    ]
    records.append(
        {
            "id": "chelsea-small",
            "file": "files/chelsea-small.jpg",
            "caption": "Chelsea the cat (thumbnail)",
            "creator": "Stefan van der Walt",
            "licence": "CC0-1.0",
        }
    )
    records.append(
        {
            "id": "scan-notes",
            "file": "files/scan-notes.png",
            "title": "Scanner notes",
            "licence": "CC0-1.0",
        }
    )
    records.append(
        {
            "id": "lost-slide",
            "file": "files/lost-slide.jpg",
            "title": "Lantern slide (missing)",
            "licence": "CC0-1.0",
        }
    )
    (files / "scan-notes.png").write_text(
        "This is a text file saved with a .png name by mistake.\n", encoding="utf-8"
    )
    write_jsonl(folder / "records.jsonl", records)


def artwork(seed: int, size: tuple[int, int] = (320, 240)) -> Image.Image:
    """A small generated 'artwork': concentric shapes in colours derived from the seed."""
    image = Image.new("RGB", size, (240, 236, 226))
    draw = ImageDraw.Draw(image)
    w, h = size
    for ring in range(8, 0, -1):
        hue = (seed * 47 + ring * 23) % 360
        r = int(127 + 120 * math.cos(math.radians(hue)))
        g = int(127 + 120 * math.cos(math.radians(hue - 120)))
        b = int(127 + 120 * math.cos(math.radians(hue + 120)))
        inset = ring * (min(w, h) // 18)
        box = (w // 2 - inset * 2, h // 2 - inset, w // 2 + inset * 2, h // 2 + inset)
        (draw.ellipse if (seed + ring) % 2 else draw.rectangle)(box, fill=(r, g, b))
    return image


def png_with_declared_size(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height with almost no pixel data (a 'pixel bomb')."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


MUSEUM_WORKS = [
    (
        "mx-001",
        "Study in ochre rings",
        "Example Museum",
        "http://rightsstatements.org/vocab/InC/1.0/",
    ),
    (
        "mx-002",
        "Harbour at dusk (print)",
        "Unknown printer, 1871",
        "http://rightsstatements.org/vocab/NoC-US/1.0/",
    ),
    (
        "mx-003",
        "Blue rectangles no. 4",
        "R. Example",
        "https://creativecommons.org/licenses/by-nc-nd/4.0/",
    ),
    ("mx-004", "Garden pattern", "Textile workshop", "http://rightsstatements.org/vocab/UND/1.0/"),
    ("mx-005", "Orange field", "M. Example", "CC BY 4.0"),
    ("mx-006", "Untitled (poster)", "Example Studio", "© Example Museum 2026"),
]


def museum_collection(folder: Path) -> None:
    files = folder / "files"
    files.mkdir(parents=True, exist_ok=True)
    records = []
    for seed, (work_id, title, creator, rights) in enumerate(MUSEUM_WORKS, start=1):
        artwork(seed).save(files / f"{work_id}.png", format="PNG", optimize=True)
        records.append(
            {
                "id": work_id,
                "file": f"files/{work_id}.png",
                "title": title,
                "creator": creator,
                "rights": rights,
                "source_url": f"https://collection.example.org/objects/{work_id}",
            }
        )
    records.append(
        {
            "id": "mx-007",
            "url": "https://collection.example.org/iiif/mx-007/full.jpg",
            "title": "Lent to another museum (remote image only)",
            "creator": "Example Museum",
            "rights": "CC0-1.0",
        }
    )
    (files / "mx-008.png").write_bytes(png_with_declared_size(20_000, 20_000))
    records.append(
        {
            "id": "mx-008",
            "file": "files/mx-008.png",
            "title": "Mural scan (broken export)",
            "creator": "Example Museum",
            "rights": "CC0-1.0",
        }
    )
    write_jsonl(folder / "records.jsonl", records)


# --------------------------------------------------------------------------------------------
# Social days.

ALICE = "did:plc:sample0alice0000000000001"
BRUNO = "did:plc:sample0bruno0000000000002"
CHIDI = "did:plc:sample0chidi0000000000003"
DANA = "did:plc:sample0dana00000000000004"
EMIL = "did:plc:sample0emil00000000000005"
FERN = "did:plc:sample0fern00000000000006"


def intent(did: str, **intents: bool | None) -> dict:
    record: dict = {"$type": "org.user-intents.declaration", "updatedAt": "2026-11-01T08:00:00Z"}
    for name, allow in intents.items():
        record[name] = {"updatedAt": "2026-11-01T08:00:00Z"}
        if allow is not None:
            record[name]["allow"] = allow
    return {"did": did, "record": record}


def post(did: str, rkey: str, day: str, hour: int, text: str, lang: str = "en") -> dict:
    return {
        "uri": f"at://{did}/app.bsky.feed.post/{rkey}",
        "did": did,
        "text": text,
        "created_at": f"{day}T{hour:02d}:15:00.000Z",
        "langs": [lang],
    }


def social_days() -> dict[str, dict[str, list]]:
    d20, d21, d22 = "2026-11-20", "2026-11-21", "2026-11-22"
    demo = intent(FERN, syntheticContentGeneration=True, bulkDataset=True)
    demo["record"]["$type"] = "org.user-intents.demo.declaration"
    return {
        d20: {
            "posts": [
                post(
                    ALICE, "3la1", d20, 7, "Morning swim in the harbour: 11 degrees and worth it."
                ),
                post(
                    BRUNO,
                    "3lb1",
                    d20,
                    9,
                    "Finished the first draft of my thesis chapter on "
                    "medieval water mills. Now: coffee.",
                ),
                post(
                    CHIDI,
                    "3lc1",
                    d20,
                    12,
                    "Our reading group starts Middlemarch next week. "
                    "Anyone in town is welcome, Thursdays at the library.",
                ),
                post(
                    DANA,
                    "3ld1",
                    d20,
                    15,
                    "Die Kraniche ziehen heute über den See, hunderte, in langen Keilen.",
                    "de",
                ),
                post(
                    EMIL,
                    "3le1",
                    d20,
                    18,
                    "Tested the new bike lane on Canal Street. "
                    "Smooth, wide, and finally separated from traffic.",
                ),
            ],
            "intents": [
                intent(ALICE, syntheticContentGeneration=True, bulkDataset=True),
                intent(BRUNO, syntheticContentGeneration=False),
                intent(CHIDI, syntheticContentGeneration=True, bulkDataset=False),
                intent(DANA, protocolBridging=None),
            ],
            "deletions": [],
        },
        d21: {
            "posts": [
                post(
                    ALICE,
                    "3la2",
                    d21,
                    8,
                    "Sourdough attempt number four. The crumb is open, "
                    "the crust is loud. Progress.",
                ),
                post(ALICE, "3la3", d21, 10, "Typo in my last post, deleting it."),
                post(
                    FERN,
                    "3lf1",
                    d21,
                    11,
                    "Le marché du samedi a enfin des tomates anciennes.",
                    "fr",
                ),
                post(
                    BRUNO,
                    "3lb2",
                    d21,
                    16,
                    "Water mill fact of the day: the Domesday Book "
                    "counts more than five thousand mills in England.",
                ),
            ],
            "intents": [demo],
            "deletions": [{"uri": f"at://{ALICE}/app.bsky.feed.post/3la3"}],
        },
        d22: {
            "posts": [
                post(
                    CHIDI,
                    "3lc2",
                    d22,
                    9,
                    "Middlemarch, chapter one: Dorothea already has "
                    "opinions about everything. I like her.",
                ),
                post(DANA, "3ld2", d22, 13, "Letzter Post hier, ich ziehe um.", "de"),
                '{"uri": "at://did:plc:broken/app.bsky.feed.post/1", "text": "unterminated',
                post(EMIL, "3le2", d22, 17, "Canal Street update: the lane now has lights."),
            ],
            "intents": [],
            "deletions": [{"did": DANA}],
        },
    }


# --------------------------------------------------------------------------------------------


def write_jsonl(path: Path, rows: list) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [row if isinstance(row, str) else json.dumps(row, ensure_ascii=False) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_json(path: Path, value: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def main() -> None:
    archives = SOURCES / "archives"
    archives.mkdir(parents=True, exist_ok=True)
    (archives / "crawl-2026-11-a.warc.gz").write_bytes(crawl_a())
    (archives / "crawl-2026-11-b.warc").write_bytes(crawl_b())
    (archives / "robotstxt-2026-11.warc.gz").write_bytes(robots_captures())

    classics = SOURCES / "texts" / "public-domain-classics"
    write_json(
        classics / "collection.json",
        {
            "licence": "https://creativecommons.org/publicdomain/mark/1.0/",
            "publisher": "Commons sample (public-domain texts)",
        },
    )
    write_jsonl(classics / "documents.jsonl", CLASSICS)

    mixed = SOURCES / "texts" / "community-writing"
    write_json(
        mixed / "collection.json",
        {
            "licence": "CC-BY-4.0",
            "publisher": "Commons sample contributors",
            "language": "en",
        },
    )
    rows: list = list(MIXED)
    rows.insert(3, '{"id": "broken-line", "text": "this line was cut off')
    rows.append({"id": "empty-note", "title": "Empty", "text": "   "})
    write_jsonl(mixed / "essays.jsonl", rows)

    skimage_collection(SOURCES / "images" / "public-domain-photos")
    museum_collection(SOURCES / "images" / "museum-mixed-rights")

    for day, files in social_days().items():
        folder = SOURCES / "social" / day
        for name, rows in files.items():
            write_jsonl(folder / f"{name}.jsonl", rows)


if __name__ == "__main__":
    main()
