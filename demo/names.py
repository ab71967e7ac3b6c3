"""Name pools for the demo: surnames and given names as they are common in 通渭 and 东乡.

Pools are tuples (never sets) so that a seeded random.Random draws the same names on every run.
Surnames come with weights: 马 is by far the most common name in 东乡, 李 and 王 in 通渭.
"""

import random

# 通渭县: Han surnames of the 陇中 loess hills.
TONGWEI_SURNAMES = (
    ("李", 14),
    ("王", 12),
    ("张", 9),
    ("刘", 7),
    ("陈", 5),
    ("杨", 6),
    ("赵", 5),
    ("牛", 5),
    ("常", 5),
    ("马", 4),
    ("魏", 3),
    ("苟", 3),
    ("何", 2),
    ("朱", 2),
    ("郭", 2),
    ("谢", 2),
    ("冯", 2),
    ("姚", 2),
    ("景", 2),
    ("令", 1),
    ("安", 1),
    ("温", 1),
    ("董", 2),
    ("吴", 2),
    ("汪", 1),
    ("罗", 1),
    ("潘", 1),
)
# 东乡族 surnames (马 above all, then 妥、汪、何、唐、哈 …).
DONGXIANG_SURNAMES = (
    ("马", 30),
    ("妥", 8),
    ("汪", 6),
    ("何", 6),
    ("唐", 5),
    ("哈", 4),
    ("赵", 4),
    ("张", 3),
    ("韩", 3),
    ("陈", 2),
    ("锁", 2),
    ("龙", 2),
    ("王", 2),
    ("孔", 1),
    ("秦", 1),
    ("穆", 1),
)
HUI_SURNAMES = (
    ("马", 20),
    ("杨", 4),
    ("何", 3),
    ("韩", 3),
    ("丁", 3),
    ("穆", 2),
    ("沙", 2),
    ("白", 2),
    ("王", 2),
)
# Province-level units draw their staff from all over Gansu.
GANSU_SURNAMES = (
    ("王", 10),
    ("李", 10),
    ("张", 9),
    ("刘", 7),
    ("陈", 5),
    ("杨", 6),
    ("赵", 5),
    ("马", 5),
    ("周", 3),
    ("吴", 3),
    ("徐", 2),
    ("孙", 3),
    ("朱", 3),
    ("胡", 3),
    ("郭", 3),
    ("何", 2),
    ("高", 3),
    ("罗", 2),
    ("梁", 2),
    ("谢", 2),
    ("宋", 2),
    ("魏", 3),
    ("冯", 2),
    ("邓", 1),
    ("曹", 2),
    ("彭", 1),
    ("苏", 2),
    ("杜", 2),
    ("牛", 2),
    ("常", 1),
    ("汪", 1),
    ("田", 2),
    ("董", 2),
    ("包", 1),
    ("雷", 1),
)

# Han given names by generation: born before 1976, and since.
HAN_MALE_OLD = (
    "建国",
    "建军",
    "国华",
    "志刚",
    "德福",
    "有才",
    "永胜",
    "学忠",
    "金山",
    "文明",
    "双喜",
    "玉林",
    "保平",
    "耀祖",
    "守仁",
    "天祥",
    "万福",
    "振华",
    "俊德",
    "生荣",
    "正明",
    "治国",
    "进财",
    "满仓",
    "存良",
    "宝",
    "林",
    "福",
    "成",
    "明",
    "强",
    "军",
    "平",
    "勇",
    "忠",
    "贵",
)
HAN_MALE_YOUNG = (
    "浩",
    "博",
    "涛",
    "鹏",
    "磊",
    "子豪",
    "浩然",
    "宇航",
    "俊杰",
    "梓轩",
    "一鸣",
    "文博",
    "明轩",
    "晓东",
    "家豪",
    "天佑",
    "子龙",
    "雨泽",
    "浩宇",
    "伟",
    "斌",
    "刚",
    "海龙",
    "小军",
    "亮",
    "瑞",
    "凯",
    "鑫",
    "志强",
    "建华",
    "旭东",
    "晨阳",
)
HAN_FEMALE_OLD = (
    "秀英",
    "桂花",
    "玉兰",
    "秀兰",
    "凤英",
    "桂英",
    "兰英",
    "菊花",
    "春梅",
    "海燕",
    "金花",
    "淑珍",
    "玉梅",
    "翠兰",
    "巧珍",
    "彩霞",
    "红霞",
    "芳",
    "霞",
    "英",
    "梅",
    "琴",
    "改香",
    "引弟",
    "转娣",
    "粉兰",
)
HAN_FEMALE_YOUNG = (
    "欣怡",
    "梓涵",
    "雨萱",
    "子涵",
    "诗琪",
    "佳怡",
    "梦瑶",
    "思琪",
    "婷婷",
    "静",
    "丽娜",
    "娟",
    "敏",
    "丹",
    "雪",
    "倩",
    "晓燕",
    "亚楠",
    "可欣",
    "雨彤",
    "晓梅",
    "丽",
    "芳芳",
    "悦",
)
# 东乡族 names, mostly from Arabic and Persian through the 东乡 language, written in characters.
DONGXIANG_MALE = (
    "尕西木",
    "哈三",
    "麦热",
    "伊布拉",
    "尔萨",
    "穆萨",
    "达吾德",
    "优素福",
    "阿不都",
    "尕麦",
    "哈克",
    "舍木",
    "苏力曼",
    "易卜拉",
    "努哈",
    "叶海亚",
    "尔力",
    "尕布",
    "哈比布",
    "穆罕默德",
    "阿里",
    "尕东",
)
DONGXIANG_FEMALE = (
    "法图麦",
    "阿依舍",
    "海迪彻",
    "麦燕",
    "尕麦",
    "麦亚",
    "索菲娅",
    "哈丽麦",
    "则乃白",
    "米乃",
    "爱米乃",
    "尕尕",
    "麦尔燕",
    "阿米乃",
    "赛乃白",
)
HUI_MALE = ("有福", "国良", "学武", "成龙", "德明", "尔撒", "伊斯哈", "志清", "福林", "海军", "光明", "永祥")
HUI_FEMALE = ("秀英", "法图麦", "阿依舍", "秀兰", "玉梅", "海燕", "麦燕", "桂英", "春花")


def weighted(rng: random.Random, pairs):
    """One value of (value, weight) pairs."""
    values = [value for value, _weight in pairs]
    weights = [weight for _value, weight in pairs]
    return rng.choices(values, weights=weights)[0]


def surname(rng: random.Random, ethnicity: str, county: str) -> str:
    if ethnicity == "东乡族":
        return weighted(rng, DONGXIANG_SURNAMES)
    if ethnicity == "回族":
        return weighted(rng, HUI_SURNAMES)
    if county == "621121":
        return weighted(rng, TONGWEI_SURNAMES)
    if county == "622926":
        # Han families of 东乡 live mostly in its 唐汪、汪集 river valleys.
        return weighted(rng, (("唐", 4), ("汪", 4), ("张", 3), ("王", 3), ("赵", 2), ("陈", 2), ("李", 2)))
    return weighted(rng, GANSU_SURNAMES)


def given_name(rng: random.Random, ethnicity: str, male: bool, birth_year: int) -> str:
    if ethnicity == "东乡族" and rng.random() < 0.6:
        return rng.choice(DONGXIANG_MALE if male else DONGXIANG_FEMALE)
    if ethnicity == "回族" and rng.random() < 0.5:
        return rng.choice(HUI_MALE if male else HUI_FEMALE)
    old = birth_year < 1976
    if male:
        return rng.choice(HAN_MALE_OLD if old else HAN_MALE_YOUNG)
    return rng.choice(HAN_FEMALE_OLD if old else HAN_FEMALE_YOUNG)


def full_name(rng: random.Random, ethnicity: str, county: str, male: bool, birth_year: int) -> str:
    return surname(rng, ethnicity, county) + given_name(rng, ethnicity, male, birth_year)


# Mobile prefixes of the three carriers as seen in Gansu.
MOBILE_PREFIXES = (
    "130",
    "131",
    "132",
    "133",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "153",
    "155",
    "156",
    "157",
    "158",
    "159",
    "177",
    "180",
    "181",
    "182",
    "183",
    "185",
    "186",
    "187",
    "188",
    "189",
    "191",
    "198",
    "199",
)


def mobile(rng: random.Random, taken: set) -> str:
    """An 11-digit mobile number not handed out before in this run."""
    while True:
        number = rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
        if number not in taken:
            taken.add(number)
            return number
