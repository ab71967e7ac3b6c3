"""The national 建档立卡 vocabularies, shared by models, forms, imports and exports."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Category(models.TextChoices):
    """户属性"""

    GENERAL_POOR = "一般贫困户", _("一般贫困户")
    DIBAO = "低保户", _("低保户")
    WUBAO = "五保户", _("五保户")
    DIBAO_POOR = "低保贫困户", _("低保贫困户")
    ORDINARY = "一般农户", _("一般农户")


POOR_CATEGORIES = (Category.GENERAL_POOR, Category.DIBAO, Category.WUBAO, Category.DIBAO_POOR)

# The province's statistical code: the root of the region tree, where a superuser's pages start.
PROVINCE_CODE = "620000000000"


class PovertyCause(models.TextChoices):
    """致贫原因"""

    ILLNESS = "因病", _("因病")
    DISABILITY = "因残", _("因残")
    SCHOOLING = "因学", _("因学")
    DISASTER = "因灾", _("因灾")
    NO_LAND = "缺土地", _("缺土地")
    NO_WATER = "缺水", _("缺水")
    NO_SKILLS = "缺技术", _("缺技术")
    NO_LABOUR = "缺劳力", _("缺劳力")
    NO_CAPITAL = "缺资金", _("缺资金")
    POOR_TRANSPORT = "交通条件落后", _("交通条件落后")
    NO_DRIVE = "自身发展动力不足", _("自身发展动力不足")
    OTHER = "其它", _("其它")


class HouseholdStatus(models.TextChoices):
    REGISTERED = "在册", _("在册")  # on the register: what pairing, visits and the figures count
    LIFTED = "已脱贫", _("已脱贫")
    MOVED_OUT = "迁出", _("迁出")
    CLOSED = "销户", _("销户")


class Housing(models.TextChoices):
    SAFE = "安全住房", _("安全住房")
    C_GRADE = "C级危房", _("C级危房")
    D_GRADE = "D级危房", _("D级危房")
    NONE = "无房", _("无房")


class Relation(models.TextChoices):
    """与户主关系"""

    HEAD = "户主", _("户主")
    SPOUSE = "配偶", _("配偶")
    SON = "之子", _("之子")
    DAUGHTER = "之女", _("之女")
    DAUGHTER_IN_LAW = "之儿媳", _("之儿媳")
    SON_IN_LAW = "之女婿", _("之女婿")
    GRANDSON = "之孙子", _("之孙子")
    GRANDDAUGHTER = "之孙女", _("之孙女")
    FATHER = "之父", _("之父")
    MOTHER = "之母", _("之母")
    SIBLING = "兄弟姐妹", _("兄弟姐妹")
    OTHER = "其他", _("其他")


_ETHNIC_GROUPS = (
    "汉族 蒙古族 回族 藏族 维吾尔族 苗族 彝族 壮族 布依族 朝鲜族 满族 侗族 瑶族 白族 土家族 哈尼族 "
    "哈萨克族 傣族 黎族 傈僳族 佤族 畲族 高山族 拉祜族 水族 东乡族 纳西族 景颇族 柯尔克孜族 土族 "
    "达斡尔族 仫佬族 羌族 布朗族 撒拉族 毛南族 仡佬族 锡伯族 阿昌族 普米族 塔吉克族 怒族 乌孜别克族 "
    "俄罗斯族 鄂温克族 德昂族 保安族 裕固族 京族 塔塔尔族 独龙族 鄂伦春族 赫哲族 门巴族 珞巴族 基诺族"
).split()
assert len(_ETHNIC_GROUPS) == 56

# The 56 nationalities; stored and shown by their Chinese names.
ETHNICITY_CHOICES = [(name, name) for name in _ETHNIC_GROUPS]


class Education(models.TextChoices):
    """文化程度"""

    ILLITERATE = "文盲或半文盲", _("文盲或半文盲")
    PRIMARY = "小学", _("小学")
    JUNIOR = "初中", _("初中")
    SENIOR = "高中", _("高中")
    COLLEGE = "大专及以上", _("大专及以上")
    PRESCHOOL = "学龄前儿童", _("学龄前儿童")


class Schooling(models.TextChoices):
    """在校生状况"""

    NOT_ENROLLED = "非在校生", _("非在校生")
    PRESCHOOL = "学前教育", _("学前教育")
    PRIMARY = "小学", _("小学")
    JUNIOR = "初中", _("初中")
    SENIOR = "高中", _("高中")
    VOCATIONAL = "中职", _("中职")
    HIGHER_VOCATIONAL = "高职高专", _("高职高专")
    UNIVERSITY = "本科及以上", _("本科及以上")
    DROPPED_OUT = "辍学", _("辍学")


class Health(models.TextChoices):
    """健康状况"""

    HEALTHY = "健康", _("健康")
    CHRONIC = "长期慢性病", _("长期慢性病")
    SERIOUS = "患有大病", _("患有大病")
    DISABLED = "残疾", _("残疾")


class Disability(models.TextChoices):
    """残疾类别（持证）"""

    VISION = "视力残疾", _("视力残疾")
    HEARING = "听力残疾", _("听力残疾")
    SPEECH = "言语残疾", _("言语残疾")
    PHYSICAL = "肢体残疾", _("肢体残疾")
    INTELLECTUAL = "智力残疾", _("智力残疾")
    MENTAL = "精神残疾", _("精神残疾")
    MULTIPLE = "多重残疾", _("多重残疾")


class Labour(models.TextChoices):
    """劳动能力"""

    ORDINARY = "普通劳动力", _("普通劳动力")
    SKILLED = "技能劳动力", _("技能劳动力")
    LOST = "丧失劳动力", _("丧失劳动力")
    NONE = "无劳动力", _("无劳动力")


class Sex(models.TextChoices):
    MALE = "M", _("男")
    FEMALE = "F", _("女")
