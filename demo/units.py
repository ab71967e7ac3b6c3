"""The demo's 40 units and the posts, ranks and staff categories of their people.

Each unit serves one of the two demo counties (links villages there), except the state
enterprise: its staff are enterprise workers, whom the campaign exempts from pairing, so it
links no village and shows up on the coverage pages as a unit without a village.
"""

import random
from dataclasses import dataclass

from households.choices import PROVINCE_CODE
from pairing.models import Cadre, Unit

TONGWEI = "621121"
DONGXIANG = "622926"
PROVINCE = PROVINCE_CODE
DINGXI = "621100000000"
LINXIA = "622900000000"
MAYING = "621121101000"  # 马营镇, the township of the tongwei_town login
BANGLUO = "621121103000"  # 榜罗镇
DABAN = "622926101000"  # 达板镇, the township of the dongxiang_town login
SUONAN = "622926100000"  # 锁南镇

Kind = Unit.Kind
Level = Unit.Level
Rank = Cadre.Rank
Category = Cadre.Category


@dataclass(frozen=True)
class UnitSpec:
    name: str
    level: str
    kind: str
    seat: str  # region code the unit is seated in
    serves: str  # county (6 digits) whose villages it links; "" for none
    size: int  # cadres
    staff: str  # key of STAFF below


UNITS = (
    # 省直
    UnitSpec("甘肃省财政厅", Level.PROVINCE, Kind.PARTY_GOVERNMENT, PROVINCE, TONGWEI, 18, "province"),
    UnitSpec("甘肃省农业农村厅", Level.PROVINCE, Kind.PARTY_GOVERNMENT, PROVINCE, TONGWEI, 16, "province"),
    UnitSpec("甘肃省农业科学院", Level.PROVINCE, Kind.INSTITUTION, PROVINCE, TONGWEI, 14, "academy"),
    UnitSpec("甘肃省交通运输厅", Level.PROVINCE, Kind.PARTY_GOVERNMENT, PROVINCE, DONGXIANG, 18, "province"),
    UnitSpec(
        "甘肃省民族事务委员会", Level.PROVINCE, Kind.PARTY_GOVERNMENT, PROVINCE, DONGXIANG, 14, "province"
    ),
    UnitSpec(
        "甘肃省妇女联合会", Level.PROVINCE, Kind.PEOPLES_ORGANISATION, PROVINCE, DONGXIANG, 12, "province_org"
    ),
    # 市（州）直
    UnitSpec("定西市发展和改革委员会", Level.CITY, Kind.PARTY_GOVERNMENT, DINGXI, TONGWEI, 14, "city"),
    UnitSpec("定西市农业农村局", Level.CITY, Kind.PARTY_GOVERNMENT, DINGXI, TONGWEI, 14, "city"),
    UnitSpec("定西市人民医院", Level.CITY, Kind.INSTITUTION, DINGXI, TONGWEI, 14, "city_hospital"),
    UnitSpec("临夏回族自治州农业农村局", Level.CITY, Kind.PARTY_GOVERNMENT, LINXIA, DONGXIANG, 14, "city"),
    UnitSpec(
        "临夏回族自治州住房和城乡建设局", Level.CITY, Kind.PARTY_GOVERNMENT, LINXIA, DONGXIANG, 14, "city"
    ),
    UnitSpec(
        "临夏州国有资本投资运营集团有限公司", Level.CITY, Kind.STATE_ENTERPRISE, LINXIA, "", 12, "enterprise"
    ),
    # 通渭县直
    UnitSpec(
        "通渭县农业农村局", Level.COUNTY, Kind.PARTY_GOVERNMENT, TONGWEI + "000000", TONGWEI, 15, "county"
    ),
    UnitSpec("通渭县财政局", Level.COUNTY, Kind.PARTY_GOVERNMENT, TONGWEI + "000000", TONGWEI, 15, "county"),
    UnitSpec(
        "通渭县人力资源和社会保障局",
        Level.COUNTY,
        Kind.PARTY_GOVERNMENT,
        TONGWEI + "000000",
        TONGWEI,
        15,
        "county",
    ),
    UnitSpec(
        "通渭县交通运输局", Level.COUNTY, Kind.PARTY_GOVERNMENT, TONGWEI + "000000", TONGWEI, 15, "county"
    ),
    UnitSpec(
        "通渭县住房和城乡建设局",
        Level.COUNTY,
        Kind.PARTY_GOVERNMENT,
        TONGWEI + "000000",
        TONGWEI,
        15,
        "county",
    ),
    UnitSpec("通渭县水务局", Level.COUNTY, Kind.PARTY_GOVERNMENT, TONGWEI + "000000", TONGWEI, 15, "county"),
    UnitSpec("通渭县民政局", Level.COUNTY, Kind.PARTY_GOVERNMENT, TONGWEI + "000000", TONGWEI, 15, "county"),
    UnitSpec(
        "通渭县卫生健康局", Level.COUNTY, Kind.PARTY_GOVERNMENT, TONGWEI + "000000", TONGWEI, 15, "county"
    ),
    UnitSpec("通渭县教育局", Level.COUNTY, Kind.PARTY_GOVERNMENT, TONGWEI + "000000", TONGWEI, 15, "county"),
    UnitSpec(
        "通渭县自然资源局", Level.COUNTY, Kind.PARTY_GOVERNMENT, TONGWEI + "000000", TONGWEI, 15, "county"
    ),
    UnitSpec("通渭县审计局", Level.COUNTY, Kind.PARTY_GOVERNMENT, TONGWEI + "000000", TONGWEI, 15, "county"),
    UnitSpec(
        "共青团通渭县委员会",
        Level.COUNTY,
        Kind.PEOPLES_ORGANISATION,
        TONGWEI + "000000",
        TONGWEI,
        10,
        "county_org",
    ),
    UnitSpec(
        "通渭县人民医院", Level.COUNTY, Kind.INSTITUTION, TONGWEI + "000000", TONGWEI, 14, "county_hospital"
    ),
    UnitSpec("通渭县第一中学", Level.COUNTY, Kind.INSTITUTION, TONGWEI + "000000", TONGWEI, 14, "school"),
    # 东乡族自治县直
    UnitSpec(
        "东乡族自治县农业农村局",
        Level.COUNTY,
        Kind.PARTY_GOVERNMENT,
        DONGXIANG + "000000",
        DONGXIANG,
        16,
        "county",
    ),
    UnitSpec(
        "东乡族自治县乡村振兴局",
        Level.COUNTY,
        Kind.PARTY_GOVERNMENT,
        DONGXIANG + "000000",
        DONGXIANG,
        16,
        "county",
    ),
    UnitSpec(
        "东乡族自治县财政局",
        Level.COUNTY,
        Kind.PARTY_GOVERNMENT,
        DONGXIANG + "000000",
        DONGXIANG,
        15,
        "county",
    ),
    UnitSpec(
        "东乡族自治县交通运输局",
        Level.COUNTY,
        Kind.PARTY_GOVERNMENT,
        DONGXIANG + "000000",
        DONGXIANG,
        15,
        "county",
    ),
    UnitSpec(
        "东乡族自治县住房和城乡建设局",
        Level.COUNTY,
        Kind.PARTY_GOVERNMENT,
        DONGXIANG + "000000",
        DONGXIANG,
        15,
        "county",
    ),
    UnitSpec(
        "东乡族自治县水务局",
        Level.COUNTY,
        Kind.PARTY_GOVERNMENT,
        DONGXIANG + "000000",
        DONGXIANG,
        15,
        "county",
    ),
    UnitSpec(
        "东乡族自治县民政局",
        Level.COUNTY,
        Kind.PARTY_GOVERNMENT,
        DONGXIANG + "000000",
        DONGXIANG,
        15,
        "county",
    ),
    UnitSpec(
        "东乡族自治县卫生健康局",
        Level.COUNTY,
        Kind.PARTY_GOVERNMENT,
        DONGXIANG + "000000",
        DONGXIANG,
        15,
        "county",
    ),
    UnitSpec(
        "东乡族自治县教育局",
        Level.COUNTY,
        Kind.PARTY_GOVERNMENT,
        DONGXIANG + "000000",
        DONGXIANG,
        15,
        "county",
    ),
    UnitSpec(
        "东乡族自治县妇女联合会",
        Level.COUNTY,
        Kind.PEOPLES_ORGANISATION,
        DONGXIANG + "000000",
        DONGXIANG,
        10,
        "county_org",
    ),
    # 乡镇
    UnitSpec("马营镇人民政府", Level.TOWNSHIP, Kind.PARTY_GOVERNMENT, MAYING, TONGWEI, 22, "township"),
    UnitSpec("榜罗镇人民政府", Level.TOWNSHIP, Kind.PARTY_GOVERNMENT, BANGLUO, TONGWEI, 18, "township"),
    UnitSpec("达板镇人民政府", Level.TOWNSHIP, Kind.PARTY_GOVERNMENT, DABAN, DONGXIANG, 16, "township"),
    UnitSpec("锁南镇人民政府", Level.TOWNSHIP, Kind.PARTY_GOVERNMENT, SUONAN, DONGXIANG, 20, "township"),
)

# The county units of the two unit-liaison logins; each links villages of the login township.
LIAISON_UNITS = {TONGWEI: "通渭县农业农村局", DONGXIANG: "东乡族自治县农业农村局"}
# The governments of the two demo townships, which link villages of their own township; each has a
# liaison login too, so that what is escalated to them has someone to act on it.
TOWNSHIP_UNITS = {TONGWEI: "马营镇人民政府", DONGXIANG: "达板镇人民政府"}
# The unit whose presence tells that the demo has been loaded.
MARKER = UNITS[12]


# Per staff profile: the leading posts in order (post, rank, category), then the posts the rest
# are drawn from at each rank, and the categories of the rest with their weights.
@dataclass(frozen=True)
class Staff:
    leaders: tuple
    section_posts: tuple
    staff_posts: tuple
    categories: tuple
    section_share: float = 0.1  # of the non-leaders, how many hold a 科级 rank


_GOVERNMENT = ((Category.CIVIL_SERVANT, 80), (Category.REFERENCE, 15), (Category.INSTITUTION, 5))
STAFF = {
    "province": Staff(
        leaders=(
            ("处长", Rank.COUNTY_LEADER, Category.CIVIL_SERVANT),
            ("副处长", Rank.COUNTY_LEADER, Category.CIVIL_SERVANT),
        ),
        section_posts=("一级主任科员", "二级主任科员", "科长", "副科长"),
        staff_posts=("一级科员", "二级科员", "四级主任科员"),
        categories=_GOVERNMENT,
        section_share=0.3,
    ),
    "province_org": Staff(
        leaders=(
            ("部长", Rank.COUNTY_LEADER, Category.REFERENCE),
            ("副部长", Rank.SECTION, Category.REFERENCE),
        ),
        section_posts=("一级主任科员", "二级主任科员"),
        staff_posts=("干事", "一级科员"),
        categories=((Category.REFERENCE, 80), (Category.CIVIL_SERVANT, 20)),
        section_share=0.25,
    ),
    "academy": Staff(
        leaders=(
            ("所长", Rank.COUNTY_LEADER, Category.INSTITUTION),
            ("副所长", Rank.SECTION, Category.INSTITUTION),
        ),
        section_posts=("研究员", "副研究员"),
        staff_posts=("助理研究员", "研究实习员", "办公室干事"),
        categories=((Category.INSTITUTION, 100),),
        section_share=0.2,
    ),
    "city": Staff(
        leaders=(
            ("局长", Rank.COUNTY_LEADER, Category.CIVIL_SERVANT),
            ("副局长", Rank.SECTION, Category.CIVIL_SERVANT),
            ("副局长", Rank.SECTION, Category.CIVIL_SERVANT),
        ),
        section_posts=("科长", "副科长", "一级主任科员"),
        staff_posts=("科员", "一级科员", "办事员"),
        categories=_GOVERNMENT,
        section_share=0.15,
    ),
    "city_hospital": Staff(
        leaders=(
            ("院长", Rank.COUNTY_LEADER, Category.INSTITUTION),
            ("副院长", Rank.SECTION, Category.MEDICAL),
            ("办公室主任", Rank.SECTION, Category.INSTITUTION),
            ("医务科科长", Rank.STAFF, Category.INSTITUTION),
        ),
        section_posts=(),
        staff_posts=("主治医师", "住院医师", "主管护师", "护师", "副主任医师"),
        categories=((Category.MEDICAL, 100),),
        section_share=0,
    ),
    "enterprise": Staff(
        leaders=(("董事长", Rank.STAFF, Category.ENTERPRISE), ("总经理", Rank.STAFF, Category.ENTERPRISE)),
        section_posts=(),
        staff_posts=("部门经理", "财务主管", "项目经理", "职员", "职员"),
        categories=((Category.ENTERPRISE, 100),),
        section_share=0,
    ),
    "county": Staff(
        leaders=(
            ("局长", Rank.SECTION, Category.CIVIL_SERVANT),
            ("副局长", Rank.SECTION, Category.CIVIL_SERVANT),
            ("副局长", Rank.SECTION, Category.CIVIL_SERVANT),
        ),
        section_posts=("四级主任科员",),
        staff_posts=("股长", "副股长", "科员", "一级科员", "办事员", "办公室主任"),
        categories=_GOVERNMENT,
        section_share=0.05,
    ),
    "county_org": Staff(
        leaders=(("书记", Rank.SECTION, Category.REFERENCE), ("副书记", Rank.SECTION, Category.REFERENCE)),
        section_posts=(),
        staff_posts=("干事", "科员"),
        categories=((Category.REFERENCE, 80), (Category.CIVIL_SERVANT, 20)),
        section_share=0,
    ),
    "county_hospital": Staff(
        leaders=(
            ("院长", Rank.SECTION, Category.INSTITUTION),
            ("副院长", Rank.SECTION, Category.MEDICAL),
            ("办公室主任", Rank.STAFF, Category.INSTITUTION),
            ("财务科科长", Rank.STAFF, Category.INSTITUTION),
        ),
        section_posts=(),
        staff_posts=("主治医师", "住院医师", "护师", "护士", "药剂师"),
        categories=((Category.MEDICAL, 100),),
        section_share=0,
    ),
    "school": Staff(
        leaders=(
            ("校长", Rank.SECTION, Category.INSTITUTION),
            ("副校长", Rank.STAFF, Category.INSTITUTION),
            ("办公室主任", Rank.STAFF, Category.INSTITUTION),
            ("总务主任", Rank.STAFF, Category.INSTITUTION),
        ),
        section_posts=(),
        staff_posts=("语文教师", "数学教师", "英语教师", "物理教师", "班主任"),
        categories=((Category.TEACHER, 100),),
        section_share=0,
    ),
    "township": Staff(
        leaders=(
            ("党委书记", Rank.SECTION, Category.CIVIL_SERVANT),
            ("镇长", Rank.SECTION, Category.CIVIL_SERVANT),
            ("人大主席", Rank.SECTION, Category.CIVIL_SERVANT),
            ("副镇长", Rank.SECTION, Category.CIVIL_SERVANT),
            ("副镇长", Rank.SECTION, Category.CIVIL_SERVANT),
        ),
        section_posts=("纪委书记", "武装部长"),
        staff_posts=("党政办干事", "民政专干", "农技员", "畜牧站站长", "财政所干事", "乡村振兴工作站干事"),
        categories=((Category.CIVIL_SERVANT, 75), (Category.INSTITUTION, 25)),
        section_share=0.05,
    ),
}


def staff_of(rng: random.Random, spec: UnitSpec) -> list[tuple[str, str, str]]:
    """(post, rank, category) of each of the unit's cadres, leaders first."""
    profile = STAFF[spec.staff]
    people = list(profile.leaders[: spec.size])
    categories = [category for category, _weight in profile.categories]
    weights = [weight for _category, weight in profile.categories]
    while len(people) < spec.size:
        category = rng.choices(categories, weights=weights)[0]
        if profile.section_posts and rng.random() < profile.section_share:
            people.append((rng.choice(profile.section_posts), Rank.SECTION, category))
        else:
            people.append((rng.choice(profile.staff_posts), Rank.STAFF, category))
    return people
