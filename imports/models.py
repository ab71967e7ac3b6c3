from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from shuanglian.access import is_office, region_q, scope_prefix


class ImportBatchQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Batches made within the user's region scope (the scope recorded at upload), and
        the user's own (a unit liaison has no region scope: it sees the batches it made)."""
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self
        in_scope = region_q(user, "scope_code") & ~Q(scope_code="") if scope_prefix(user) else Q(pk__in=[])
        return self.filter(in_scope | Q(created_by=user))


class ImportBatch(models.Model):
    """One roster file brought in: who, when, which file, what it found and what it wrote."""

    class Kind(models.TextChoices):
        HOUSEHOLDS = "households", _("农户及成员")
        CADRES = "cadres", _("干部名册")
        LINKS = "links", _("联村关系")
        PAIRINGS = "pairings", _("结对关系")

    class Status(models.TextChoices):
        QUEUED = "queued", _("排队中")
        CHECKING = "checking", _("检查中")
        CHECKED = "checked", _("待确认")
        REFUSED = "refused", _("有错误")
        APPLYING = "applying", _("导入中")
        DONE = "done", _("已导入")
        FAILED = "failed", _("失败")

    kind = models.CharField(_("类别"), max_length=16, choices=Kind.choices)
    filename = models.CharField(_("文件名"), max_length=255)
    size = models.PositiveIntegerField(_("文件大小（字节）"))
    sha256 = models.CharField(_("文件摘要"), max_length=64)
    # The file is kept in the database so that any worker on any host can read it.
    content = models.BinaryField(_("文件内容"), editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("上传人"), on_delete=models.PROTECT, related_name="+"
    )
    # The uploader's region prefix ('' for a superuser), which decides who may see the batch.
    scope_code = models.CharField(_("范围代码"), max_length=12, blank=True)
    created_at = models.DateTimeField(_("上传时间"), auto_now_add=True)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    rows_read = models.PositiveIntegerField(_("已读行数"), default=0)
    message = models.TextField(_("说明"), blank=True)
    report = models.JSONField(_("检查结果"), default=dict, blank=True)
    checked_at = models.DateTimeField(_("检查完成时间"), null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("确认人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    applied_at = models.DateTimeField(_("导入时间"), null=True, blank=True)
    created_households = models.JSONField(_("新建农户ID"), default=list, blank=True)
    # Who works on the batch now ("host:pid" of the worker or command, '' when nobody does) and
    # since when it is queued or worked on: a batch whose process died, or that ran past the
    # time limit, is reclaimed as failed (imports/reclaim.py).
    worker = models.CharField(_("处理进程"), max_length=100, blank=True, editable=False)
    running_since = models.DateTimeField(_("开始处理时间"), null=True, blank=True, editable=False)
    # When the retention period's end dropped the file's content (it carries whole ID numbers);
    # the batch and its report stay.
    content_deleted_at = models.DateTimeField(_("文件删除时间"), null=True, blank=True, editable=False)

    objects = ImportBatchQuerySet.as_manager()

    class Meta:
        verbose_name = _("导入批次")
        verbose_name_plural = _("导入批次")
        ordering = ["-created_at", "-pk"]

    @property
    def content_deleted_after_days(self) -> int | None:
        if self.content_deleted_at is None:
            return None
        return (self.content_deleted_at - self.created_at).days

    def __str__(self):
        return f"{self.filename}（{self.get_status_display()}）"


class RegisterAttemptQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Offices above the township see the attempts made within their scope; townships and units never
        (what the record says about the register outside the township is what it must not learn)."""
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self
        if not is_office(user) or not scope_prefix(user):
            return self.none()
        return self.filter(region_q(user, "scope_code"))


class RegisterAttempt(models.Model):
    """A household roster named a person already registered outside its uploader's scope.

    The uploader is told only a neutral refusal (imports/households.py); the county office above
    it sees this record: who, when, which file and row, and where the person is registered as far
    as the office's own scope reaches. One record per batch and ID, however often it is checked.
    """

    batch = models.ForeignKey(
        ImportBatch,
        verbose_name=_("导入批次"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    attempted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("上传人"), on_delete=models.PROTECT, related_name="+"
    )
    attempted_at = models.DateTimeField(_("时间"), auto_now_add=True)
    # The uploader's region prefix, which decides which offices see the record.
    scope_code = models.CharField(_("范围代码"), max_length=12, blank=True)
    filename = models.CharField(_("文件名"), max_length=255, blank=True)
    sheet = models.CharField(_("工作表"), max_length=100, blank=True)
    row = models.PositiveIntegerField(_("行号"))
    id_number = models.CharField(_("身份证号码"), max_length=18)
    name = models.CharField(_("姓名"), max_length=50, blank=True)
    registered_village = models.ForeignKey(
        "households.Region", verbose_name=_("已登记所在村"), on_delete=models.PROTECT, related_name="+"
    )

    objects = RegisterAttemptQuerySet.as_manager()

    class Meta:
        verbose_name = _("跨范围登记尝试")
        verbose_name_plural = _("跨范围登记尝试")
        ordering = ["-attempted_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "id_number"], name="register_attempt_once_per_batch"),
        ]

    def __str__(self):
        return f"{self.attempted_by} {self.sheet}第{self.row}行"


# A batch in one of these is waiting for a worker or being worked on.
RUNNING = (ImportBatch.Status.QUEUED, ImportBatch.Status.CHECKING, ImportBatch.Status.APPLYING)


class ExportJobQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Only the requester's own exports: a file may carry whole IDs and phones, and it was built
        with the requester's scope, so nobody else may fetch it (another user gets a 404)."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(created_by=user)


class ExportJob(models.Model):
    """A workbook built in the background (imports/exports.py): the county household roster at
    50,000 households takes about a minute, so it is built by a worker with progress and offered
    when ready. Report workbooks that grow large go the same way."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("排队中")
        RUNNING = "running", _("生成中")
        DONE = "done", _("已生成")
        FAILED = "failed", _("失败")
        # The file was dropped after SHUANGLIAN_UPLOAD_RETENTION_DAYS (purge_uploads); the job stays.
        EXPIRED = "expired", _("已过期")

    # The dotted path of the function that builds the file: the worker imports it by name, so an
    # app above this one (reports) can hand its workbooks to the same jobs without being imported.
    builder = models.CharField(_("生成函数"), max_length=100)
    params = models.JSONField(_("参数"), default=dict, blank=True)
    label = models.CharField(_("导出内容"), max_length=200)
    filename = models.CharField(_("文件名"), max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("申请人"), on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(_("申请时间"), auto_now_add=True)
    status = models.CharField(_("状态"), max_length=8, choices=Status.choices, default=Status.QUEUED)
    rows_done = models.PositiveIntegerField(_("已处理行数"), default=0)
    rows_total = models.PositiveIntegerField(_("总行数"), default=0)
    content = models.BinaryField(_("文件内容"), null=True, editable=False)
    message = models.TextField(_("说明"), blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    # Carried by the form that starts the job: a double-clicked button starts one job.
    submission_key = models.UUIDField(_("提交标识"), unique=True, null=True, blank=True, editable=False)

    objects = ExportJobQuerySet.as_manager()

    class Meta:
        verbose_name = _("导出任务")
        verbose_name_plural = _("导出任务")
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.label}（{self.get_status_display()}）"

    @property
    def running(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)

    @property
    def percent(self) -> int:
        if not self.rows_total:
            return 0
        return min(100, self.rows_done * 100 // self.rows_total)
