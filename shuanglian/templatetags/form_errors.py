from django import template

register = template.Library()


@register.inclusion_tag("field_errors.html")
def field_errors(field):
    """A bound field's errors, each as 「标签：错误」 so it says which field it is about (Django's
    own messages, such as 这个字段是必填项。, do not). A message that already names its field
    (请填写诉求内容, written by a service that is also called outside forms) is shown as it is."""
    label = str(field.label)
    return {"errors": [error if label in error else f"{label}：{error}" for error in field.errors]}
