"""Write the demo's raw CSVs (companies, shuttles, reviews, and the new shuttles the
scoring pipeline prices) into the template.

Seeded, so the committed files are reproducible: run it again after changing the
generator and commit the result. The shuttle price has a learnable signal (engines,
capacity, crew, checks, the operator's rating and the review score) plus noise, so the
demo's R² means something. Raw values are messy on purpose ("91%", "$1,325.00", "t"/"f",
missing cells, duplicate rows): the Snowpark pipeline cleans them.

    python scripts/generate_demo_data.py
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

SEED = 20261126
N_COMPANIES = 120
N_SHUTTLES = 800
N_TO_SCORE = 50
RAW_DIR = (
    Path(__file__).resolve().parent.parent / "{{ cookiecutter.repo_name }}/data/01_raw"
)

LOCATIONS = [
    "Niue",
    "Anguilla",
    "Russian Federation",
    "Barbados",
    "Sri Lanka",
    "Iceland",
]
SHUTTLE_TYPES = ["Type V5", "Type F5", "Type V2", "Type F2"]
ENGINE_TYPES = ["Quantum", "Plasma", "Nuclear"]
ENGINE_VENDORS = [
    "ThetaBase Services",
    "Banks, Lloyd and Hill",
    "Rogers Inc",
    "Cohen PLC",
]
POLICIES = ["strict", "moderate", "flexible"]


def maybe_missing(rng: random.Random, value: str, rate: float = 0.02) -> str:
    """An empty cell now and then, as real exports have."""
    return "" if rng.random() < rate else value


def make_companies(rng: random.Random) -> list[dict[str, str]]:
    rows = []
    for company_id in range(1, N_COMPANIES + 1):
        rating = rng.randint(50, 100)
        rows.append(
            {
                "id": str(company_id),
                "company_rating": maybe_missing(rng, f"{rating}%"),
                "company_location": rng.choice(LOCATIONS),
                "total_fleet_count": str(rng.randint(1, 20)),
                "iata_approved": rng.choice(["t", "f"]),
            }
        )
    return rows


def make_shuttles_and_reviews(
    rng: random.Random, companies: list[dict[str, str]]
) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    shuttles, reviews = [], []
    for shuttle_id in range(1, N_SHUTTLES + 1):
        company = rng.choice(companies)
        engines = rng.randint(1, 4)
        capacity = rng.randint(2, 12)
        crew = rng.randint(1, 6)
        d_check = rng.random() < 0.6
        moon_clearance = rng.random() < 0.3
        review_score = rng.uniform(60, 100)
        rating = int(company["company_rating"].rstrip("%") or 75) / 100
        price = (
            400
            + 180 * engines
            + 95 * capacity
            + 60 * crew
            + 250 * d_check
            + 150 * moon_clearance
            + 900 * (rating - 0.75)
            + 12 * (review_score - 80)
            + rng.gauss(0, 120)
        )
        shuttles.append(
            {
                "id": str(shuttle_id),
                "shuttle_location": rng.choice(LOCATIONS),
                "shuttle_type": rng.choice(SHUTTLE_TYPES),
                "engine_type": rng.choice(ENGINE_TYPES),
                "engine_vendor": rng.choice(ENGINE_VENDORS),
                "engines": maybe_missing(rng, str(engines)),
                "passenger_capacity": str(capacity),
                "cancellation_policy": rng.choice(POLICIES),
                "crew": maybe_missing(rng, str(crew)),
                "d_check_complete": "t" if d_check else "f",
                "moon_clearance_complete": "t" if moon_clearance else "f",
                "price": f"${max(price, 50):,.2f}",
                "company_id": company["id"],
            }
        )
        reviews.append(
            {
                "shuttle_id": str(shuttle_id),
                "review_scores_rating": maybe_missing(rng, f"{review_score:.1f}"),
                "review_scores_comfort": f"{rng.uniform(6, 10):.1f}",
                "review_scores_amenities": f"{rng.uniform(6, 10):.1f}",
                "review_scores_trip": f"{rng.uniform(6, 10):.1f}",
                "number_of_reviews": str(rng.randint(0, 300)),
                "reviews_per_month": f"{rng.uniform(0, 9):.2f}",
            }
        )
    # A few exact duplicates, which the pipeline drops.
    shuttles.extend(rng.sample(shuttles, 8))
    return shuttles, reviews


def make_shuttles_to_score(
    rng: random.Random, companies: list[dict[str, str]]
) -> list[dict[str, str]]:
    """New listings, not priced yet: the shuttle's columns without a price, and the
    review score it is listed with."""
    rows = []
    for shuttle_id in range(N_SHUTTLES + 1, N_SHUTTLES + N_TO_SCORE + 1):
        rows.append(
            {
                "id": str(shuttle_id),
                "shuttle_type": rng.choice(SHUTTLE_TYPES),
                "engines": str(rng.randint(1, 4)),
                "passenger_capacity": str(rng.randint(2, 12)),
                "crew": str(rng.randint(1, 6)),
                "d_check_complete": rng.choice(["t", "f"]),
                "moon_clearance_complete": rng.choice(["t", "f"]),
                "review_scores_rating": f"{rng.uniform(60, 100):.1f}",
                "company_id": rng.choice(companies)["id"],
            }
        )
    return rows


def write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(
        f"wrote {len(rows):>5} rows to {path.relative_to(RAW_DIR.parent.parent.parent)}"
    )  # noqa: T201


def main() -> int:
    rng = random.Random(SEED)
    companies = make_companies(rng)
    shuttles, reviews = make_shuttles_and_reviews(rng, companies)
    # Drawn last, so that the training files stay what they were.
    to_score = make_shuttles_to_score(rng, companies)
    RAW_DIR.mkdir(parents=True, exist_ok=True)
    write_csv(RAW_DIR / "companies.csv", companies)
    write_csv(RAW_DIR / "shuttles.csv", shuttles)
    write_csv(RAW_DIR / "reviews.csv", reviews)
    write_csv(RAW_DIR / "shuttles_to_score.csv", to_score)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
