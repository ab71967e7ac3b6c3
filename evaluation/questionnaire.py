"""The default questionnaire of a round (问卷), written as data: open_round copies it into Question rows,
which the office may edit until the first ballot arrives.

A choice is {"value": label, "score": number or None}; a choice scored None (不了解) is left out of
the mean. Only questions with `scored` count toward the masses' score, each by its `weight`.
"""

SATISFACTION = "satisfaction"
VISITS = "visits"
DEEDS = "deeds"
VIOLATION = "violation"
SUGGESTIONS = "suggestions"

DEFAULT_QUESTIONS = [
    {
        "code": SATISFACTION,
        "text": "您对帮扶干部的总体满意度",
        "kind": "single",
        "choices": [
            {"value": "满意", "score": 100},
            {"value": "基本满意", "score": 70},
            {"value": "不满意", "score": 0},
            {"value": "不了解", "score": None},
        ],
        "scored": True,
        "weight": 1,
        "required": True,
    },
    {
        "code": VISITS,
        "text": "今年干部到过你家几次",
        "kind": "single",
        "choices": [{"value": v, "score": None} for v in ("0次", "1–2次", "3–5次", "6次以上")],
        "required": True,
    },
    {
        "code": DEEDS,
        "text": "干部帮你家办了哪些实事",
        "kind": "multiple",
        "choices": [
            {"value": v, "score": None}
            for v in (
                "产业发展",
                "务工就业",
                "危房改造",
                "看病就医",
                "子女上学",
                "低保救助",
                "政策宣传",
                "其他",
            )
        ],
        "allow_text": True,
    },
    {
        "code": VIOLATION,
        "text": "干部有无吃拿卡要等违反“八个不准”的行为",
        "kind": "single",
        "choices": [{"value": "无", "score": None}, {"value": "有", "score": None}],
        "required": True,
        # Answering 有 asks what happened: the office follows it up.
        "text_required_for": "有",
    },
    {"code": SUGGESTIONS, "text": "意见建议", "kind": "text"},
]
