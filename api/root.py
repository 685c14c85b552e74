"""`GET /api/v1/`: where the API's resources are, for a person or a client
exploring it (issue 13; it used to be the site's HTML 404). Public and
outside the schema, like the schema and the docs themselves."""

from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView


class ApiRoot(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []
    renderer_classes = [JSONRenderer]
    schema = None
    resources: dict[str, str] = {}  # name -> URL name, set by the router that mounts it

    def get(self, request):
        links = {name: reverse(url_name, request=request) for name, url_name in self.resources.items()}
        return Response(
            {
                "about": "Regimen API v1. Get a token from auth/token (username, password) and send "
                "'Authorization: Token <token>'. The OpenAPI schema and interactive docs are linked below.",
                **links,
            }
        )
