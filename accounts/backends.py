from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class ScopedModelBackend(ModelBackend):
    """Django's password backend, loading the signed-in account with its region and unit in the same
    query: every page's header names the account's office or unit (User.acting_as), which would
    otherwise cost one more query per request."""

    def get_user(self, user_id):
        users = get_user_model()._default_manager.select_related("region", "unit")
        try:
            user = users.get(pk=user_id)
        except get_user_model().DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
