"""A household roster's rows once checked: what the reader makes and the writers write."""

import datetime
from dataclasses import dataclass, field

# Fields whose checked values are never None and never hold a tab, newline or backslash (keys,
# resident IDs, sex, dates and vocabulary values), which COPY may take as they format.
PLAIN_MEMBER_FIELDS = frozenset(
    {
        "household_id",
        "id_number",
        "sex",
        "birth_date",
        "relation",
        "ethnicity",
        "education",
        "schooling",
        "health",
        "disability",
        "labour",
    }
)
PLAIN_HOUSEHOLD_FIELDS = frozenset(
    {"id", "head_id_number", "village_id", "category", "main_cause", "housing", "status"}
)


@dataclass(slots=True)  # 200,000 of them in a county roster
class PersonRow:
    sheet: str
    row: int
    id_number: str
    birth_date: datetime.date
    sex: str
    values: dict  # model field → value, only for columns the file has

    def new_member(self, household_id) -> dict:
        """The Member row to create, as field attnames → values."""
        return {
            "household_id": household_id,
            "id_number": self.id_number,
            "sex": self.sex,
            "birth_date": self.birth_date,
            **self.values,
        }


@dataclass(slots=True)
class HouseholdRow:
    sheet: str
    row: int
    head_id: str
    location: tuple  # (county, township, village) names
    values: dict  # model field → value
    members: list = field(default_factory=list)
    members_listed: bool = False  # whether the file lists the members (missing ones are reported)
    declared_size: int | None = None
    size_cell: tuple | None = None
    refused_members: int = 0  # member rows refused (their ID): the size is not checked then
    village_id: str | None = None

    def new_household(self) -> dict:
        """The Household row to create, as field attnames → values (its key aside)."""
        return {"head_id_number": self.head_id, "village_id": self.village_id, **self.values}
