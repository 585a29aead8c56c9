"""Deterministic synthetic people, payers and insurance for the demo, tests and benchmarks.

Everything here is made up from a seed (`random.Random(seed)`): the same seed and the
same `today` give the same data, byte for byte. No real person is described:

- names are drawn independently (first, middle, last) from common-name lists;
- phones are in the 555-0100..555-0199 block reserved for fiction, behind real area
  codes of the patient's state;
- e-mail addresses use the reserved example.com/.org/.net domains;
- member ids follow payer-like formats but are random; none is 9 bare digits, so none
  can be mistaken for a social security number (nothing here has an SSN);
- payer, practice and clinic names are invented.

The generator is fast enough to feed the 1,000,000-patient benchmark
(`bench/generate.py`): it yields plain dicts and does no database work.

A patient dict holds the `register_patient` fields (dob a `date`, phones as 10
digits) plus:

- `key`: 1, 2, 3... in generation order (the bench uses it as the row id);
- `guarantor_key`: the key of the guarantor (a parent, for minors) or None; the
  guarantor always comes earlier in the stream;
- `coverages`: dicts of `add_coverage` fields, with `payer` = a key of `PAYERS`
  and `copay_cents`;
- `intake`: (kind, description, detail) triples as the patient reported them.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from pms_core.validation import fold, fold_member_id, npi_check_digit


def _words(text: str) -> tuple[str, ...]:
    """Whitespace-separated names; "_" stands for a space inside a name."""
    return tuple(dict.fromkeys(w.replace("_", " ") for w in text.split()))


FEMALE_FIRST = _words(
    """
    Mary Patricia Jennifer Linda Elizabeth Barbara Susan Jessica Sarah Karen Lisa Nancy
    Betty Sandra Margaret Ashley Kimberly Emily Donna Michelle Carol Amanda Melissa
    Deborah Stephanie Dorothy Rebecca Sharon Laura Cynthia Amy Kathleen Angela Shirley
    Brenda Emma Anna Pamela Nicole Samantha Katherine Christine Helen Debra Rachel
    Carolyn Janet Maria Catherine Heather Diane Olivia Julie Joyce Victoria Ruth Virginia
    Lauren Kelly Christina Joan Evelyn Judith Andrea Hannah Megan Cheryl Jacqueline
    Martha Madison Teresa Gloria Sara Janice Ann Kathryn Abigail Sophia Frances Jean
    Alice Judy Isabella Julia Grace Amber Denise Danielle Marilyn Beverly Charlotte
    Natalie Theresa Diana Brittany Doris Kayla Alexis Lori Marie Harper Avery Riley Aria
    Scarlett Chloe Penelope Layla Nora Zoey Mila Aubrey Hazel Ellie Stella Lily Paisley
    Everly Willow Naomi Elena Maya Luna Savannah Brooklyn Leah Audrey Skylar Claire Lucy
    Aurora Addison Ivy Quinn Piper Ruby Sadie Eliana Autumn Guadalupe Rosa Lucia Camila
    Valentina Ximena Daniela Gabriela Alejandra Mariana Adriana Veronica Yolanda Carmen
    Esperanza Paola Fernanda Isabel Marisol Leticia Araceli Beatriz Raquel Soledad Aaliyah
    Imani Jasmine Keisha Latoya Ebony Tamika Shanice Destiny Nia Deja Monique Tiana Kiara
    Ayanna Zuri Mei Xiaoling Jing Huifang Lan Yuki Aiko Haruka Sakura Minji Jiwoo Seoyeon
    Eunji Priya Ananya Deepika Kavya Lakshmi Meera Pooja Sunita Linh Thao Huong Mai Trang
    Maricel Rowena Jocelyn Lourdes Fatima Aisha Noor Yasmin Mariam Zainab Huda Leila Rania
    Salma Chiamaka Ngozi Adaeze Amara Folake Abena Akosua Wanjiru Zawadi Ingrid Astrid
    Sofie Katarzyna Agnieszka Magdalena Olga Svetlana Irina Natasha Giulia Francesca
    Chiara Siobhan Aoife Niamh Eszter Greta Ioana Leilani Malia Zoë Renée Sofía Inés
    """
)
MALE_FIRST = _words(
    """
    James Robert John Michael David William Richard Joseph Thomas Christopher Charles
    Daniel Matthew Anthony Mark Donald Steven Andrew Paul Joshua Kenneth Kevin Brian
    George Timothy Ronald Jason Edward Jeffrey Ryan Jacob Gary Nicholas Eric Jonathan
    Stephen Larry Justin Scott Brandon Benjamin Samuel Gregory Alexander Patrick Frank
    Raymond Jack Dennis Jerry Tyler Aaron Henry Adam Douglas Nathan Peter Zachary Kyle
    Walter Harold Jeremy Ethan Carl Keith Roger Gerald Christian Terry Sean Arthur Austin
    Noah Lawrence Jesse Joe Bryan Billy Jordan Albert Dylan Bruce Willie Gabriel Alan
    Juan Logan Wayne Ralph Roy Eugene Randy Vincent Russell Louis Philip Bobby Johnny
    Bradley Liam Oliver Elijah Lucas Mason Aiden Caleb Owen Wyatt Hudson Carter Grayson
    Jaxon Lincoln Asher Theodore Ezra Miles Leo Julian Isaiah José Luis Carlos Jesús
    Miguel Alejandro Francisco Javier Manuel Ricardo Fernando Eduardo Sergio Raúl Andrés
    Diego Santiago Mateo Emiliano Joaquin Hector Ramon Arturo Rafael Alberto Enrique
    Guillermo Marco DeShawn Jamal Darnell Tyrone Malik Terrell Jermaine Andre Marquis
    Darius Kendrick Rashad Cedric Reginald Dwayne Lamar Xavier Jalen Khalil Wei Jun Hao
    Ming Jian Zhiwei Hiroshi Takeshi Kenji Haruto Minjun Seojun Jihoon Hyun Arjun Rahul
    Vikram Sanjay Rohan Aditya Ravi Anil Rajesh Minh Quang Tuan Duc Huy Rodel Marlon
    Mohammed Ahmed Omar Ali Hassan Youssef Khalid Tariq Karim Samir Bilal Ibrahim Mustafa
    Hamza Rami Chukwuemeka Oluwaseun Babajide Kwame Kofi Yaw Tendai Jabari Emeka Chidi
    Tunde Sipho Lars Sven Nils Piotr Tomasz Krzysztof Dmitri Sergei Mikhail Alexei
    Giovanni Luca Matteo Cian Declan Eoin Padraig Hans Jürgen Stefan Klaus Bogdan Andrei
    Mihai Nikolaos Dimitrios Kai Keoni
    """
)
LAST_NAMES = _words(
    """
    Smith Johnson Williams Brown Jones Miller Davis Wilson Anderson Taylor Thomas Moore
    Martin Jackson Thompson White Harris Clark Lewis Robinson Walker Young Allen King
    Wright Scott Hill Green Adams Baker Nelson Carter Mitchell Roberts Turner Phillips
    Campbell Parker Evans Edwards Collins Stewart Morris Murphy Cook Rogers Morgan Cooper
    Peterson Reed Bailey Bell Kelly Howard Cox Ward Richardson Watson Brooks Wood James
    Bennett Gray Hughes Price Sanders Myers Long Ross Foster Powell Jenkins Perry Russell
    Sullivan Fisher Henderson Coleman Simmons Patterson Jordan Reynolds Hamilton Graham
    Wallace West Cole Hayes Bryant Gibson Ellis Stevens Murray Ford Marshall Owens
    McDonald Harrison Kennedy Wells Hunt Black Palmer Holmes Stone Meyer Boyd Mills Warren
    Fox Rose Rice Ferguson Nichols Weaver Daniels Stephens Gardner Payne Dunn Pierce
    Arnold Spencer Peters Hawkins Grant Hansen Hoffman Hart Elliott Cunningham Knight
    Bradley Garcia Rodriguez Martinez Hernandez Lopez Gonzalez Perez Sanchez Ramirez
    Torres Flores Rivera Gomez Diaz Cruz Reyes Morales Gutierrez Ortiz Chavez Ramos Ruiz
    Alvarez Mendoza Vasquez Castillo Jimenez Romero Vargas Aguilar Salazar Delgado
    Guerrero Ortega Soto Rojas Contreras Espinoza Sandoval Navarro Cisneros Valdez
    Figueroa Fuentes Cabrera Ibarra Villanueva Medina Herrera Moreno Castro Fernandez
    Peña Muñoz Núñez Ibáñez De_La_Cruz De_León Nguyen Tran Le Pham Huynh Hoang Phan Vu
    Dang Bui Do Ngo Duong Lam Wang Li Zhang Liu Chen Yang Huang Zhao Wu Zhou Xu Sun Ma
    Zhu Hu Lin Guo He Kim Lee Park Choi Jung Kang Cho Yoon Jang Lim Han Shin Tanaka
    Suzuki Watanabe Yamamoto Nakamura Kobayashi Sato Ito Takahashi Patel Shah Singh Kumar
    Sharma Gupta Reddy Rao Iyer Nair Desai Mehta Chatterjee Joshi Agarwal Santos Bautista
    Dela_Cruz Aquino Haddad Khoury Nasser Saleh Hassan Ibrahim Mansour Aziz Farouk Rahman
    Hussein Abdullah Qureshi Siddiqui Khan Ahmed Malik Okafor Adeyemi Okonkwo Eze Nwosu
    Mensah Boateng Asante Kamau Mwangi Otieno Abebe Tesfaye Diallo Traore Ndiaye Balogun
    Adebayo Osei Müller Schneider Fischer Weber Wagner Becker Schulz Kowalski Nowak
    Wiśniewski Kozlov Ivanov Petrov Popescu Rossi Russo Ferrari Esposito Bianchi Romano
    Colombo Ricci O'Brien O'Connor O'Neill McCarthy Gallagher Byrne Walsh Kavanagh
    Fitzgerald Andersson Johansson Larsen Nielsen Jensen Novak Horvat Kovacs Nagy
    Papadopoulos Dubois Moreau Laurent Lefebvre Girard Bergeron Tremblay Gagnon Côté
    Van_der_Berg Van_Dyke Janssen DeVries Begay Yazzie Tsosie Benally Kahale Akana Kealoha
    """
)
STREETS = _words(
    """
    Main Oak Maple Cedar Pine Elm Washington Lake Hill Park Walnut Spring North Ridge
    Church Willow Mill Sunset Jackson Cherry Lincoln Highland Jefferson Madison Franklin
    Meadow Forest River Chestnut Adams Spruce Hickory Birch Dogwood Magnolia Sycamore
    Poplar Aspen Laurel Prairie Orchard Valley Lakeview Fairview Brookside Greenwood
    Westwood Kingston Hawthorne Cambridge Oxford Monroe Grant Wilson Harrison Cleveland
    Sheridan Lafayette Union Market Center Broad Front Water High School College Academy
    Mulberry Juniper Redbud Cottonwood Bluff Creekside Canyon Heritage Liberty
    Independence Pleasant Summit Vista Shady_Oak Stone Quarry Railroad Depot Bridge
    Ferry Harbor Bay Shore Wabash Sangamon Kickapoo Hazel Locust Linden Ash Beech
    """
)
STREET_SUFFIXES = ("St", "Ave", "Rd", "Dr", "Ln", "Ct", "Blvd", "Way", "Pl", "Ter", "Cir", "Trl")
_SUFFIX_WEIGHTS = (30, 22, 14, 12, 8, 5, 2, 3, 1, 1, 1, 1)
DIRECTIONS = ("N ", "S ", "E ", "W ")
UNITS = ("Apt", "Unit", "Apt", "Apt", "Ste", "#")
NAME_SUFFIXES = ("Jr", "Sr", "II", "III")

# (city, state, ZIP, area codes): real places and ZIP codes with their area codes.
# The demo practice is in central Illinois; most of its patients live nearby.
LOCAL_PLACES = (
    ("Springfield", "IL", "62701", ("217",)),
    ("Springfield", "IL", "62702", ("217",)),
    ("Springfield", "IL", "62703", ("217",)),
    ("Springfield", "IL", "62704", ("217",)),
    ("Springfield", "IL", "62711", ("217",)),
    ("Chatham", "IL", "62629", ("217",)),
    ("Rochester", "IL", "62563", ("217",)),
    ("Sherman", "IL", "62684", ("217",)),
    ("Riverton", "IL", "62561", ("217",)),
    ("Auburn", "IL", "62615", ("217",)),
    ("Pawnee", "IL", "62558", ("217",)),
    ("Petersburg", "IL", "62675", ("217",)),
    ("Jacksonville", "IL", "62650", ("217",)),
    ("Lincoln", "IL", "62656", ("217",)),
    ("Taylorville", "IL", "62568", ("217",)),
    ("Decatur", "IL", "62521", ("217",)),
    ("Decatur", "IL", "62526", ("217",)),
    ("Champaign", "IL", "61820", ("217",)),
    ("Urbana", "IL", "61801", ("217",)),
    ("Bloomington", "IL", "61701", ("309",)),
    ("Normal", "IL", "61761", ("309",)),
    ("Peoria", "IL", "61602", ("309",)),
)
PLACES = (
    ("Chicago", "IL", "60614", ("312", "773", "872")),
    ("Naperville", "IL", "60540", ("630", "331")),
    ("Madison", "WI", "53703", ("608",)),
    ("Milwaukee", "WI", "53202", ("414",)),
    ("Minneapolis", "MN", "55401", ("612",)),
    ("Saint Paul", "MN", "55102", ("651",)),
    ("Des Moines", "IA", "50309", ("515",)),
    ("Omaha", "NE", "68102", ("402", "531")),
    ("Kansas City", "MO", "64105", ("816",)),
    ("Saint Louis", "MO", "63101", ("314",)),
    ("Indianapolis", "IN", "46204", ("317",)),
    ("Columbus", "OH", "43215", ("614",)),
    ("Cleveland", "OH", "44113", ("216",)),
    ("Cincinnati", "OH", "45202", ("513",)),
    ("Detroit", "MI", "48226", ("313",)),
    ("Ann Arbor", "MI", "48104", ("734",)),
    ("Grand Rapids", "MI", "49503", ("616",)),
    ("Louisville", "KY", "40202", ("502",)),
    ("Lexington", "KY", "40507", ("859",)),
    ("Nashville", "TN", "37203", ("615", "629")),
    ("Memphis", "TN", "38103", ("901",)),
    ("Knoxville", "TN", "37902", ("865",)),
    ("Atlanta", "GA", "30303", ("404", "470", "678")),
    ("Savannah", "GA", "31401", ("912",)),
    ("Charlotte", "NC", "28202", ("704", "980")),
    ("Raleigh", "NC", "27601", ("919", "984")),
    ("Durham", "NC", "27701", ("919",)),
    ("Richmond", "VA", "23219", ("804",)),
    ("Norfolk", "VA", "23510", ("757",)),
    ("Baltimore", "MD", "21202", ("410", "443")),
    ("Philadelphia", "PA", "19103", ("215", "267")),
    ("Pittsburgh", "PA", "15222", ("412",)),
    ("Harrisburg", "PA", "17101", ("717",)),
    ("Newark", "NJ", "07102", ("973", "862")),
    ("Trenton", "NJ", "08608", ("609",)),
    ("Albany", "NY", "12207", ("518",)),
    ("Buffalo", "NY", "14202", ("716",)),
    ("Rochester", "NY", "14604", ("585",)),
    ("Syracuse", "NY", "13202", ("315",)),
    ("Boston", "MA", "02108", ("617", "857")),
    ("Worcester", "MA", "01608", ("508", "774")),
    ("Providence", "RI", "02903", ("401",)),
    ("Hartford", "CT", "06103", ("860",)),
    ("New Haven", "CT", "06510", ("203",)),
    ("Burlington", "VT", "05401", ("802",)),
    ("Portland", "ME", "04101", ("207",)),
    ("Manchester", "NH", "03101", ("603",)),
    ("Miami", "FL", "33130", ("305", "786")),
    ("Orlando", "FL", "32801", ("407", "321")),
    ("Tampa", "FL", "33602", ("813",)),
    ("Jacksonville", "FL", "32202", ("904",)),
    ("Birmingham", "AL", "35203", ("205",)),
    ("Jackson", "MS", "39201", ("601",)),
    ("New Orleans", "LA", "70112", ("504",)),
    ("Baton Rouge", "LA", "70802", ("225",)),
    ("Little Rock", "AR", "72201", ("501",)),
    ("Oklahoma City", "OK", "73102", ("405",)),
    ("Tulsa", "OK", "74103", ("918",)),
    ("Dallas", "TX", "75201", ("214", "469", "972")),
    ("Houston", "TX", "77002", ("713", "281", "832")),
    ("Austin", "TX", "78701", ("512", "737")),
    ("San Antonio", "TX", "78205", ("210",)),
    ("El Paso", "TX", "79901", ("915",)),
    ("Albuquerque", "NM", "87102", ("505",)),
    ("Denver", "CO", "80202", ("303", "720")),
    ("Colorado Springs", "CO", "80903", ("719",)),
    ("Salt Lake City", "UT", "84111", ("801", "385")),
    ("Boise", "ID", "83702", ("208",)),
    ("Phoenix", "AZ", "85004", ("602", "480")),
    ("Tucson", "AZ", "85701", ("520",)),
    ("Las Vegas", "NV", "89101", ("702",)),
    ("Reno", "NV", "89501", ("775",)),
    ("Los Angeles", "CA", "90012", ("213", "323")),
    ("San Diego", "CA", "92101", ("619", "858")),
    ("San Francisco", "CA", "94102", ("415", "628")),
    ("Oakland", "CA", "94612", ("510",)),
    ("Sacramento", "CA", "95814", ("916",)),
    ("Fresno", "CA", "93721", ("559",)),
    ("Portland", "OR", "97204", ("503", "971")),
    ("Eugene", "OR", "97401", ("541",)),
    ("Seattle", "WA", "98101", ("206",)),
    ("Spokane", "WA", "99201", ("509",)),
    ("Anchorage", "AK", "99501", ("907",)),
    ("Honolulu", "HI", "96813", ("808",)),
    ("Billings", "MT", "59101", ("406",)),
    ("Fargo", "ND", "58102", ("701",)),
    ("Sioux Falls", "SD", "57104", ("605",)),
    ("Cheyenne", "WY", "82001", ("307",)),
    ("Charleston", "WV", "25301", ("304",)),
    ("Columbia", "SC", "29201", ("803",)),
    ("Wilmington", "DE", "19801", ("302",)),
    ("Washington", "DC", "20001", ("202",)),
    ("Wichita", "KS", "67202", ("316",)),
)

# Conditions as patients describe them, with the medications they usually mention.
# (description, minimum age, maximum age, medications)
CONDITIONS = (
    (
        "High blood pressure",
        30,
        120,
        ("Lisinopril 10 mg once a day", "Amlodipine 5 mg daily", "Losartan 50 mg daily"),
    ),
    ("Type 2 diabetes", 30, 120, ("Metformin 500 mg twice a day",)),
    ("High cholesterol", 35, 120, ("Atorvastatin 20 mg at bedtime", "Simvastatin 40 mg daily")),
    ("Asthma", 3, 120, ("Albuterol inhaler as needed",)),
    ("Underactive thyroid", 25, 120, ("Levothyroxine 50 mcg every morning",)),
    ("Acid reflux", 20, 120, ("Omeprazole 20 mg daily",)),
    ("Migraines", 14, 80, ("Sumatriptan 50 mg when needed",)),
    ("Seasonal allergies", 4, 120, ("Cetirizine 10 mg daily", "Loratadine 10 mg daily")),
    ("Arthritis in the knees", 50, 120, ("Ibuprofen 400 mg as needed", "Meloxicam 15 mg daily")),
    ("Depression", 16, 120, ("Sertraline 50 mg daily",)),
    ("Anxiety", 14, 120, ("Escitalopram 10 mg daily",)),
    ("Sleep apnea", 35, 120, ()),
    ("Lower back pain", 25, 120, ()),
    ("Gout", 40, 120, ("Allopurinol 100 mg daily",)),
    ("Atrial fibrillation", 60, 120, ("Apixaban 5 mg twice a day",)),
    ("Eczema", 0, 40, ("Hydrocortisone cream as needed",)),
    ("ADHD", 6, 30, ("Methylphenidate 18 mg every morning",)),
    ("Frequent ear infections", 0, 8, ()),
)
ALLERGIES = (
    ("Penicillin", "hives"),
    ("Sulfa drugs", "rash"),
    ("Amoxicillin", "rash"),
    ("Codeine", "nausea and vomiting"),
    ("Peanuts", "throat swelling"),
    ("Tree nuts", "hives"),
    ("Shellfish", "hives and swelling"),
    ("Latex", "skin irritation"),
    ("Bee stings", "swelling"),
    ("Iodine contrast dye", "itching"),
    ("Eggs", "upset stomach"),
    ("Cats", "sneezing, watery eyes"),
    ("Aspirin", "stomach bleeding"),
)
CLINICS = (
    "Lakeside Family Practice",
    "Northgate Medical Group",
    "Cedar Valley Clinic",
    "Sunrise Health Center",
    "Riverside Internal Medicine",
    "Hilltop Community Clinic",
    "Maplewood Primary Care",
    "Crossroads Medical Associates",
)
PEDIATRIC_CLINICS = ("Prairie Pediatrics", "Little Acorns Pediatric Care", "Kids First Clinic")


@dataclass(frozen=True)
class PayerSpec:
    """A fictional payer: how it is billed and what its member ids look like."""

    key: str
    name: str
    edi_payer_id: str
    claim_filing_indicator: str
    address1: str
    city: str
    state: str
    zip: str
    phone: str
    member_format: str
    group: bool
    plans: tuple[str, ...]
    copays: tuple[int, ...]  # cents


PAYERS: tuple[PayerSpec, ...] = (
    PayerSpec("medicare", "Heartland Medicare Part B", "HMB52", "MB",
              "PO Box 6710", "Indianapolis", "IN", "46206", "8005550101",
              "mbi", False, ("Original Medicare Part B",), (0,)),
    PayerSpec("medicaid", "Prairie State Medicaid", "PSMCD", "MC",
              "PO Box 19102", "Springfield", "IL", "62794", "8005550102",
              "medicaid", False, ("Medicaid Fee-for-Service",), (0, 0, 200, 400)),
    PayerSpec("pinecrest", "Pinecrest Community Health Plan", "PCHMC", "MC",
              "PO Box 4410", "Peoria", "IL", "61601", "8005550103",
              "prefix:PCH:9", False, ("Medicaid Managed Care", "All Kids"), (0, 0, 300)),
    PayerSpec("lakeshore", "Lakeshore Blue Cross Blue Shield", "LBCBS", "BL",
              "PO Box 80544", "Chicago", "IL", "60680", "8005550104",
              "blue", True, ("Blue Choice PPO", "Blue Advantage HMO", "Blue Edge HSA"), (2500, 3000, 4000)),
    PayerSpec("riverbend", "Riverbend Mutual Insurance", "RVBM1", "CI",
              "PO Box 3318", "Des Moines", "IA", "50306", "8005550105",
              "suffix", True, ("Open Access PPO", "Bronze HDHP"), (2000, 3500)),
    PayerSpec("northstar", "Northstar Health Plans", "NSHP2", "CI",
              "PO Box 64560", "Saint Paul", "MN", "55164", "8005550106",
              "prefix:W:9", True, ("Choice POS II", "Open Access Select"), (2500, 4000)),
    PayerSpec("cardinal", "Cardinal Care HMO", "CRDHM", "HM",
              "PO Box 1207", "Saint Louis", "MO", "63150", "8005550107",
              "prefix:CC:10", True, ("Cardinal HMO Select",), (1000, 1500, 2000)),
    PayerSpec("evergreen", "Evergreen Medicare Advantage", "EVMA3", "HM",
              "PO Box 31362", "Milwaukee", "WI", "53201", "8005550108",
              "prefix:EV:9", False, ("Evergreen Senior HMO", "Evergreen Senior PPO"), (0, 1000, 2000)),
    PayerSpec("keystone", "Keystone Benefit Administrators", "KSTN4", "CI",
              "PO Box 2250", "Harrisburg", "PA", "17105", "8005550109",
              "alnum", True, ("Self-Funded PPO",), (2000, 3000)),
    PayerSpec("teachers", "Tri-County Teachers Health Plan", "TCTHP", "CI",
              "PO Box 905", "Bloomington", "IL", "61702", "8005550110",
              "prefix:TCT:8", True, ("Educators PPO",), (1500, 2500)),
    PayerSpec("goldenyears", "Golden Years Medicare Supplement", "GYMS5", "CI",
              "PO Box 7021", "Omaha", "NE", "68103", "8005550111",
              "prefix:GY:9", False, ("Medigap Plan G", "Medigap Plan N"), (0,)),
    PayerSpec("harborview", "Harborview Health Assurance", "HBVH6", "CI",
              "PO Box 55890", "Columbus", "OH", "43216", "8005550112",
              "prefix:HV:10", True, ("Harborview Gold PPO", "Harborview Silver EPO"), (2500, 3500, 5000)),
)  # fmt: skip

PAYER_BY_KEY = {p.key: p for p in PAYERS}
# Employer plans of working-age adults, with their market shares.
_COMMERCIAL = (
    "lakeshore",
    "riverbend",
    "northstar",
    "cardinal",
    "keystone",
    "teachers",
    "harborview",
)
_COMMERCIAL_WEIGHTS = (32, 14, 14, 12, 10, 8, 10)
_MEDICAID = ("medicaid", "pinecrest")
# Home-plan prefixes on Blue cards; invented, three letters.
_BLUE_PREFIXES = ("LKX", "LKZ", "XQB", "QLB", "LBJ", "LBW")
# MBI character classes: no S, L, O, I, B, Z.
_MBI_LETTERS = "ACDEFGHJKMNPQRTUVWXY"
_MBI_ALNUM = "0123456789" + _MBI_LETTERS
_ALNUM_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"

# Adult ages by band (low, high, weight): a family practice's panel.
_ADULT_BANDS = ((18, 29, 17), (30, 44, 25), (45, 64, 33), (65, 79, 19), (80, 95, 6))

TAXONOMIES = {
    "207Q00000X": "Family Medicine",
    "207R00000X": "Internal Medicine",
    "208000000X": "Pediatrics",
    "207RG0300X": "Geriatric Medicine",
    "363LF0000X": "Nurse Practitioner, Family",
    "363A00000X": "Physician Assistant",
}


def _cum(weights) -> list[int]:
    out, total = [], 0
    for w in weights:
        total += w
        out.append(total)
    return out


class Synth:
    """A seeded source of synthetic people and the things around them.

    `today` anchors ages and coverage dates, so data stays realistic whenever it
    is built; pass the same `today` to get identical data on another day.
    `local_places` (with `local_share`) makes most patients live near the practice.
    With `unique=True` no two patients share first name, last name and DOB, which
    keeps the registration service's duplicate warning out of the way.
    """

    def __init__(
        self,
        seed: int,
        *,
        today: date,
        local_places: tuple = (),
        local_share: float = 0.85,
        unique: bool = False,
    ):
        self.rng = random.Random(seed)
        self.today = today
        self._today_ord = today.toordinal()
        self._local = tuple(local_places)
        self._local_share = local_share if self._local else 0.0
        self._seen: set[tuple[str, str, date]] | None = set() if unique else None
        self._next_key = 1
        self._fold = {n: fold(n) for n in (*FEMALE_FIRST, *MALE_FIRST, *LAST_NAMES)}
        self._commercial_cum = _cum(_COMMERCIAL_WEIGHTS)
        self._suffix_cum = _cum(_SUFFIX_WEIGHTS)
        self._adult_cum = _cum(w for _, _, w in _ADULT_BANDS)

    # --- small pieces ---------------------------------------------------------------
    def folded(self, name: str) -> str:
        """`validation.fold(name)`, cached for the names in the lists."""
        f = self._fold.get(name)
        return f if f is not None else fold(name)

    def npi(self, first_digit: str = "1") -> str:
        nine = first_digit + "".join(str(self.rng.randrange(10)) for _ in range(8))
        return nine + npi_check_digit(nine)

    def first_name(self, sex: str) -> str:
        rng = self.rng
        if sex == "F" or (sex == "U" and rng.random() < 0.5):
            return rng.choice(FEMALE_FIRST)
        return rng.choice(MALE_FIRST)

    def last_name(self) -> str:
        rng = self.rng
        last = rng.choice(LAST_NAMES)
        if rng.random() < 0.025:
            other = rng.choice(LAST_NAMES)
            if " " not in last and " " not in other and other != last:
                last = f"{last}-{other}"
        return last

    def dob(self, age: int) -> date:
        """A birth date `age` years (and up to a year) before today."""
        days = int(age * 365.2425) + self.rng.randrange(365)
        return date.fromordinal(max(self._today_ord - days, 1))

    def adult_age(self) -> int:
        band = self.rng.choices(_ADULT_BANDS, cum_weights=self._adult_cum)[0]
        return self.rng.randint(band[0], band[1])

    def place(self) -> tuple:
        rng = self.rng
        if self._local and rng.random() < self._local_share:
            return rng.choice(self._local)
        return rng.choice(PLACES)

    def address(self, place: tuple) -> dict:
        rng = self.rng
        digits = rng.choice((2, 3, 3, 4, 4, 4, 5))
        number = rng.randrange(10 ** (digits - 1), 10**digits)
        direction = rng.choice(DIRECTIONS) if rng.random() < 0.15 else ""
        suffix = rng.choices(STREET_SUFFIXES, cum_weights=self._suffix_cum)[0]
        address2 = None
        if rng.random() < 0.14:
            letter = rng.choice("ABCD") if rng.random() < 0.4 else ""
            address2 = f"{rng.choice(UNITS)} {rng.randint(1, 40)}{letter}"
        return {
            "address1": f"{number} {direction}{rng.choice(STREETS)} {suffix}",
            "address2": address2,
            "city": place[0],
            "state": place[1],
            "zip": place[2],
        }

    def phone(self, area_codes: tuple[str, ...]) -> str:
        """A 10-digit number in the fictional 555-0100..555-0199 block."""
        return f"{self.rng.choice(area_codes)}55501{self.rng.randrange(100):02d}"

    def email(self, first: str, last: str) -> str:
        rng = self.rng
        f, la = self.folded(first), self.folded(last)
        style = rng.randrange(5)
        if style == 0:
            local = f"{f}.{la}"
        elif style == 1:
            local = f"{f}{la}{rng.randrange(1, 100)}"
        elif style == 2:
            local = f"{f[:1]}{la}{rng.randrange(10, 1000)}"
        elif style == 3:
            local = f"{f}_{la}"
        else:
            local = f"{la}.{f}{rng.randrange(1, 10)}"
        domain = rng.choice(("example.com", "example.com", "example.org", "example.net"))
        return f"{local}@{domain}"

    def member_id(self, fmt: str) -> str:
        rng = self.rng
        rr = rng.randrange
        if fmt == "mbi":
            letters, alnum = _MBI_LETTERS, _MBI_ALNUM
            return "".join(
                (
                    str(rr(1, 10)),
                    letters[rr(20)],
                    alnum[rr(30)],
                    str(rr(10)),
                    letters[rr(20)],
                    alnum[rr(30)],
                    str(rr(10)),
                    letters[rr(20)],
                    letters[rr(20)],
                    str(rr(10)),
                    str(rr(10)),
                )
            )
        if fmt == "medicaid":
            return f"{rr(1, 10)}{rr(10**11):011d}"
        if fmt == "blue":
            return f"{rng.choice(_BLUE_PREFIXES)}{rr(10**10):010d}"
        if fmt == "suffix":
            return f"{_ALNUM_LETTERS[rr(24)]}{_ALNUM_LETTERS[rr(24)]}{rr(10**7):07d}-01"
        if fmt == "alnum":
            return f"K{_ALNUM_LETTERS[rr(24)]}{_ALNUM_LETTERS[rr(24)]}{rr(10**7):07d}"
        _, prefix, n = fmt.split(":")
        n = int(n)
        return f"{prefix}{rr(10**n):0{n}d}"

    def group_number(self) -> str:
        rng = self.rng
        style = rng.randrange(3)
        if style == 0:
            return f"{rng.randrange(10**5, 10**6)}"
        if style == 1:
            return f"GRP{rng.randrange(10**4):04d}{rng.choice('ABCDEFGH')}"
        return f"{rng.choice(_ALNUM_LETTERS)}{rng.randrange(10**6):06d}-{rng.randrange(1, 100):02d}"

    # --- people ---------------------------------------------------------------------
    def _person(self, *, sex: str, age: int, last: str, home: dict, area_codes) -> dict:
        rng = self.rng
        first = self.first_name(sex)
        dob = self.dob(age)
        if self._seen is not None:
            key = (self.folded(first), self.folded(last), dob)
            while key in self._seen:  # re-roll the day, keep everything else
                dob = date.fromordinal(max(dob.toordinal() - 1, 1))
                key = (key[0], key[1], dob)
            self._seen.add(key)
        middle = None
        m = rng.random()
        if m < 0.45:
            middle = self.first_name(sex)
        elif m < 0.6:
            middle = rng.choice(_ALNUM_LETTERS)
        suffix = (
            rng.choice(NAME_SUFFIXES) if sex == "M" and age >= 18 and rng.random() < 0.03 else None
        )
        p = {
            "key": 0,
            "account_number": "",
            "first_name": first,
            "middle_name": middle,
            "last_name": last,
            "suffix": suffix,
            "dob": dob,
            "sex": sex,
            **home,
            "home_phone": None,
            "mobile_phone": None,
            "email": None,
            "preferred_contact": "mail",
            "guarantor_key": None,
            "guarantor_relationship": None,
            "coverages": [],
            "intake": [],
            "_age": age,
        }
        if age >= 13:
            if rng.random() < (0.9 if age >= 18 else 0.5):
                p["mobile_phone"] = self.phone(area_codes)
            if age >= 18 and rng.random() < 0.68:
                p["email"] = self.email(first, last)
        return p

    def _contact(self, p: dict, home_phone: str | None) -> None:
        """Fill the home phone and a preferred channel the record can satisfy."""
        rng = self.rng
        p["home_phone"] = home_phone
        r = rng.random()
        if p["mobile_phone"] and r < 0.7:
            p["preferred_contact"] = "sms"
        elif p["email"] and r < 0.85:
            p["preferred_contact"] = "email"
        elif p["mobile_phone"] or p["home_phone"]:
            p["preferred_contact"] = "phone"
        else:
            p["preferred_contact"] = "mail"

    def _sex(self) -> str:
        r = self.rng.random()
        return "F" if r < 0.508 else ("M" if r < 0.995 else "U")

    def _intake(self, p: dict) -> None:
        rng = self.rng
        age = p["_age"]
        items = p["intake"]
        chance = 0.25 if age < 18 else (0.45 if age < 45 else 0.75)
        if rng.random() < chance:
            count = 1 + (rng.random() < 0.4) + (age >= 60 and rng.random() < 0.5)
            picked: set[str] = set()
            for _ in range(count):
                desc, lo, hi, meds = rng.choice(CONDITIONS)
                if not lo <= age <= hi or desc in picked:
                    continue
                picked.add(desc)
                since = self.today.year - rng.randint(0, max(0, min(age - lo, 25)))
                items.append(("condition", desc, f"since {since}"))
                if meds and rng.random() < 0.8:
                    items.append(("medication", rng.choice(meds), None))
        if rng.random() < 0.22:
            allergen, reaction = rng.choice(ALLERGIES)
            items.append(("allergy", allergen, reaction))
        if rng.random() < 0.2:
            clinic = rng.choice(PEDIATRIC_CLINICS if age < 18 else CLINICS)
            doctor = f"Dr. {self.first_name(rng.choice('FM'))} {rng.choice(LAST_NAMES)}"
            items.append(("previous_provider", doctor, f"{clinic}, {p['city']}"))

    # --- insurance ------------------------------------------------------------------
    def _plan(self, payer_key: str, holder: dict) -> dict:
        """A policy held by `holder` (the subscriber)."""
        rng = self.rng
        spec = PAYER_BY_KEY[payer_key]
        if payer_key == "medicare":
            # Part B starts the month the holder turns 65.
            turned65 = date(holder["dob"].year + 65, holder["dob"].month, 1)
            effective = min(turned65, self.today.replace(day=1))
        else:
            years_back = rng.choice((0, 0, 1, 1, 2, 3, 4, 6))
            month = 1 if rng.random() < 0.6 else rng.randint(1, 12)
            effective = date(self.today.year - years_back, month, 1)
            if effective > self.today:
                effective = date(self.today.year - 1, month, 1)
        return {
            "payer": payer_key,
            "member_id": self.member_id(spec.member_format),
            "group_number": self.group_number() if spec.group else None,
            "plan_name": rng.choice(spec.plans),
            "copay_cents": rng.choice(spec.copays),
            "effective_date": max(effective, holder["dob"]),
            "holder": holder,
            "dependents": 1,
        }

    def _cover(self, p: dict, plan: dict, priority: int, relationship: str) -> None:
        holder = plan["holder"]
        member_id = plan["member_id"]
        if relationship != "self":
            plan["dependents"] += 1
            if member_id.endswith("-01"):
                member_id = f"{member_id[:-3]}-{plan['dependents']:02d}"
        cov = {
            "payer": plan["payer"],
            "priority": priority,
            "member_id": member_id,
            "group_number": plan["group_number"],
            "plan_name": plan["plan_name"],
            "relationship": relationship,
            "subscriber_first_name": None,
            "subscriber_last_name": None,
            "subscriber_dob": None,
            "subscriber_sex": None,
            "effective_date": max(plan["effective_date"], p["dob"]),
            "copay_cents": plan["copay_cents"],
        }
        if relationship != "self":
            cov["subscriber_first_name"] = holder["first_name"]
            cov["subscriber_last_name"] = holder["last_name"]
            cov["subscriber_dob"] = holder["dob"]
            cov["subscriber_sex"] = holder["sex"]
        p["coverages"].append(cov)

    def _own_plan(self, p: dict) -> dict:
        rng = self.rng
        if p["_age"] >= 65:
            return self._plan("medicare" if rng.random() < 0.7 else "evergreen", p)
        if rng.random() < 0.16:
            return self._plan(rng.choice(_MEDICAID), p)
        key = rng.choices(_COMMERCIAL, cum_weights=self._commercial_cum)[0]
        return self._plan(key, p)

    def _senior_secondary(self, p: dict, plan: dict) -> None:
        if plan["payer"] != "medicare":
            return
        r = self.rng.random()
        if r < 0.68:
            self._cover(p, self._plan("goldenyears", p), 2, "self")
        elif r < 0.78:
            self._cover(p, self._plan("medicaid", p), 2, "self")

    @staticmethod
    def _family_plan(plan: dict) -> bool:
        return plan["payer"] in _COMMERCIAL

    # --- households -----------------------------------------------------------------
    def household(self) -> list[dict]:
        """One household: a single adult, a couple, or parents with children.
        Members share an address and a home phone; minors have the first adult
        as guarantor and are usually covered on a parent's plan."""
        rng = self.rng
        place = self.place()
        home = self.address(place)
        area_codes = place[3]
        last = self.last_name()
        home_phone = self.phone(area_codes) if rng.random() < 0.35 else None
        r = rng.random()
        adults: list[dict] = []
        children: list[dict] = []
        if r < 0.42:
            adults.append(
                self._person(
                    sex=self._sex(),
                    age=self.adult_age(),
                    last=last,
                    home=home,
                    area_codes=area_codes,
                )
            )
        else:
            family = r >= 0.64
            age = rng.randint(22, 52) if family else self.adult_age()
            first_sex = self._sex()
            adults.append(
                self._person(sex=first_sex, age=age, last=last, home=home, area_codes=area_codes)
            )
            if not family or rng.random() < 0.75:
                if rng.random() < 0.94:
                    partner_sex = "M" if first_sex == "F" else "F"
                else:
                    partner_sex = first_sex
                partner_last = last if rng.random() < 0.8 else self.last_name()
                partner_age = min(95, max(18, age + rng.randint(-6, 6)))
                adults.append(
                    self._person(
                        sex=partner_sex,
                        age=partner_age,
                        last=partner_last,
                        home=home,
                        area_codes=area_codes,
                    )
                )
            if family:
                eldest = min(17, max(0, age - 20))
                for _ in range(rng.choice((1, 1, 2, 2, 2, 3, 4))):
                    child_age = rng.randint(0, eldest)
                    children.append(
                        self._person(
                            sex=self._sex(),
                            age=child_age,
                            last=last,
                            home=home,
                            area_codes=area_codes,
                        )
                    )
        for p in adults:
            self._contact(p, home_phone)
        parent = adults[0]
        for c in children:
            if not c["mobile_phone"]:
                c["mobile_phone"] = parent["mobile_phone"]
            self._contact(c, home_phone)
            c["guarantor_relationship"] = "parent"

        # Insurance: everyone has a primary; some have a secondary.
        first = adults[0]
        if len(adults) == 1 and first["_age"] <= 25 and rng.random() < 0.45:
            # A young adult still on a parent's employer plan.
            parent_sex = rng.choice("FM")
            holder = {
                "first_name": self.first_name(parent_sex),
                "last_name": first["last_name"],
                "dob": self.dob(first["_age"] + rng.randint(20, 38)),
                "sex": parent_sex,
            }
            key = rng.choices(_COMMERCIAL, cum_weights=self._commercial_cum)[0]
            self._cover(first, self._plan(key, holder), 1, "child")
            if rng.random() < 0.3:
                key = rng.choices(_COMMERCIAL, cum_weights=self._commercial_cum)[0]
                self._cover(first, self._plan(key, first), 2, "self")
            plans = []
        else:
            plans = [self._own_plan(first)]
            self._cover(first, plans[0], 1, "self")
            self._senior_secondary(first, plans[0])
        if len(adults) == 2:
            a, b = adults
            if self._family_plan(plans[0]) and b["_age"] < 65 and rng.random() < 0.5:
                self._cover(b, plans[0], 1, "spouse")
                plans.append(plans[0])
            else:
                own = self._own_plan(b)
                plans.append(own)
                self._cover(b, own, 1, "self")
                self._senior_secondary(b, own)
                if self._family_plan(own) and self._family_plan(plans[0]):
                    if rng.random() < 0.55:
                        self._cover(a, own, 2, "spouse")
                    if rng.random() < 0.55:
                        self._cover(b, plans[0], 2, "spouse")
        for c in children:
            unique_plans = list({id(pl): pl for pl in plans if self._family_plan(pl)}.values())
            if unique_plans and rng.random() < 0.85:
                self._cover(c, unique_plans[0], 1, "child")
                if len(unique_plans) > 1 and rng.random() < 0.7:
                    self._cover(c, unique_plans[1], 2, "child")
            else:
                self._cover(c, self._plan(rng.choice(_MEDICAID), c), 1, "self")

        members = adults + children
        for p in members:
            self._intake(p)
        for p in members:
            p["key"] = self._next_key
            p["account_number"] = f"P{self._next_key:07d}"
            self._next_key += 1
        for c in children:
            c["guarantor_key"] = parent["key"]
        return members

    def patients(self, n: int) -> Iterator[dict]:
        """`n` patients, household by household (the last household may be cut short;
        guarantors always come before the people they guarantee)."""
        left = n
        while left > 0:
            for p in self.household()[:left]:
                del p["_age"]
                yield p
                left -= 1


def patient_fields(p: dict) -> dict:
    """The `register_patient` keyword arguments of a synthetic patient (without
    the guarantor id, which depends on the database; synthetic patients are alive)."""
    from pms_core.services.patients import PATIENT_FIELDS

    return {k: p[k] for k in PATIENT_FIELDS if k not in ("guarantor_id", "deceased_date")}


def search_columns(p: dict, synth: Synth | None = None) -> tuple[str, str]:
    """(search_first, search_last) exactly as the patient service stores them."""
    f = synth.folded if synth else fold
    return f(p["first_name"]), f(p["last_name"])


def member_id_search(member_id: str) -> str:
    """`Coverage.member_id_search` exactly as the coverage service stores it."""
    return fold_member_id(member_id)


# --- the practice around the patients -----------------------------------------------
DEMO_PRACTICE = {
    "name": "Prairie Oak Family Medicine",
    "taxonomy": "261QP2300X",
    "tin": "364419263",
    "address1": "415 Prairie Oak Dr",
    "city": "Springfield",
    "state": "IL",
    "zip": "627041520",
    "phone": "2175550100",
    "time_zone": "America/Chicago",
}
DEMO_LOCATIONS = (
    {
        "name": "Prairie Oak Downtown",
        "default_pos": "11",
        "address1": "415 Prairie Oak Dr",
        "city": "Springfield",
        "state": "IL",
        "zip": "627041520",
        "phone": "2175550100",
    },
    {
        "name": "Prairie Oak Chatham",
        "default_pos": "11",
        "address1": "120 E Plummer Blvd",
        "city": "Chatham",
        "state": "IL",
        "zip": "626291204",
        "phone": "2175550120",
    },
    {
        "name": "Prairie Oak Walk-In Care",
        "default_pos": "20",
        "address1": "2801 Wabash Ave",
        "address2": "Suite 100",
        "city": "Springfield",
        "state": "IL",
        "zip": "627043811",
        "phone": "2175550130",
    },
)
# (taxonomy, credential) of the demo's clinicians.
DEMO_PROVIDERS = (
    ("207Q00000X", "MD"),
    ("207Q00000X", "DO"),
    ("207R00000X", "MD"),
    ("208000000X", "MD"),
    ("207RG0300X", "MD"),
    ("363LF0000X", "FNP"),
)


def providers(synth: Synth) -> list[dict]:
    """Clinicians for `DEMO_PROVIDERS`, with invented names and valid NPIs."""
    out = []
    for taxonomy, credential in DEMO_PROVIDERS:
        sex = synth.rng.choice("FM")
        out.append(
            {
                "npi": synth.npi("1"),
                "taxonomy": taxonomy,
                "first_name": synth.first_name(sex),
                "last_name": synth.rng.choice(LAST_NAMES),
                "credential": credential,
            }
        )
    return out


def payer_fields(spec: PayerSpec) -> dict:
    """The `insert_payer` keyword arguments of a payer spec."""
    return {
        "name": spec.name,
        "edi_payer_id": spec.edi_payer_id,
        "claim_filing_indicator": spec.claim_filing_indicator,
        "address1": spec.address1,
        "city": spec.city,
        "state": spec.state,
        "zip": spec.zip,
        "phone": spec.phone,
    }


__all__ = [
    "DEMO_LOCATIONS",
    "DEMO_PRACTICE",
    "LOCAL_PLACES",
    "PAYERS",
    "PAYER_BY_KEY",
    "PLACES",
    "PayerSpec",
    "Synth",
    "member_id_search",
    "patient_fields",
    "payer_fields",
    "providers",
    "search_columns",
]
