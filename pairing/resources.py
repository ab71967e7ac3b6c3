"""Spreadsheet exports of the admin's lists (django-import-export), in the admin's scope.

Import is not offered here: rosters come in through the roster import (imports/), which
checks every row against the pairing rules and writes a file all-or-nothing.
"""

from import_export import fields, resources

from .models import Cadre


class CadreResource(resources.ModelResource):
    unit = fields.Field(attribute="unit__name", column_name="单位")
    name = fields.Field(attribute="name", column_name="姓名")
    phone = fields.Field(attribute="phone", column_name="手机号码")
    post = fields.Field(attribute="post", column_name="职务")
    rank = fields.Field(attribute="rank", column_name="职级")
    category = fields.Field(attribute="category", column_name="人员类别")
    status = fields.Field(attribute="status", column_name="状态")

    class Meta:
        model = Cadre
        fields = ("unit", "name", "phone", "post", "rank", "category", "status")
        export_order = fields
