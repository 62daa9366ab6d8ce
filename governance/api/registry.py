"""Registry endpoints: AI systems (+ classification, applicability proposal), model versions
(+ training card), datasets."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from governance import selectors, services
from governance.api.serializers import (
    AISystemSerializer,
    ClassificationAnswersSerializer,
    ClassificationSerializer,
    ConfirmAllSerializer,
    DatasetSerializer,
    ModelVersionSerializer,
    TrainingCardSerializer,
)
from governance.models import AISystem, Dataset, EUAIActClassification, ModelVersion, TrainingObjectiveCard
from governance.permissions import Permission
from governance.web.api import OrganisationViewSet, service_call
from governance.web.filters import list_schema


class AISystemViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                      mixins.UpdateModelMixin, mixins.DestroyModelMixin, OrganisationViewSet):
    queryset = AISystem.objects.none()
    serializer_class = AISystemSerializer
    write_action = Permission.EDIT_REGISTRY

    def scoped_queryset(self) -> Any:
        return selectors.ai_systems_for(self.access)

    def perform_create(self, serializer: AISystemSerializer) -> None:
        serializer.instance = service_call(services.ai_system_create, organisation=self.access.organisation,
                                           actor=self.request.user, data=serializer.validated_data)

    def perform_update(self, serializer: AISystemSerializer) -> None:
        serializer.instance = service_call(services.ai_system_update, ai_system=serializer.instance,
                                           actor=self.request.user, data=serializer.validated_data)

    def perform_destroy(self, instance: Any) -> None:
        service_call(services.ai_system_delete, ai_system=instance, actor=self.request.user)

    @extend_schema(request=ClassificationAnswersSerializer, responses={200: ClassificationSerializer})
    @action(detail=True, methods=["get", "put"])
    def classification(self, request: Request, pk: str | None = None, **kwargs: Any) -> Response:
        """GET the EU AI Act classification; PUT the guided answers to (re)classify."""
        system = self.get_object()
        if request.method == "GET":
            row = EUAIActClassification.objects.filter(ai_system=system).first()
            return Response(ClassificationSerializer(row).data if row else {}, status=200 if row else 404)
        answers = ClassificationAnswersSerializer(data=request.data)
        answers.is_valid(raise_exception=True)
        row = service_call(services.classification_record, ai_system=system, actor=request.user,
                           answers=answers.validated_data)
        return Response(ClassificationSerializer(row).data)

    @extend_schema(request=None, responses={200: dict})
    @action(detail=True, methods=["post"], url_path="propose-applicability",
            required_actions={"POST": Permission.EDIT_CONTROLS})
    def propose_applicability(self, request: Request, pk: str | None = None, **kwargs: Any) -> Response:
        """(Re)propose the Statement of Applicability from the classification and attributes."""
        changed = service_call(services.applicability_propose, ai_system=self.get_object(), actor=request.user)
        return Response({"changed": changed})

    @extend_schema(request=ConfirmAllSerializer, responses={200: dict})
    @action(detail=True, methods=["post"], url_path="confirm-applicability",
            required_actions={"POST": Permission.EDIT_CONTROLS})
    def confirm_applicability(self, request: Request, pk: str | None = None, **kwargs: Any) -> Response:
        """Confirm every open proposal of one framework (by slug) with one justification."""
        payload = ConfirmAllSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        confirmed = service_call(services.applicability_confirm_all, ai_system=self.get_object(), actor=request.user,
                                 framework_id=payload.validated_data["framework"].pk,
                                 justification=payload.validated_data["justification"])
        return Response({"confirmed": confirmed})


VERSION_FILTERS = {"ai_system": "ai_system_id"}


@extend_schema_view(list=list_schema(ModelVersionSerializer, VERSION_FILTERS))
class ModelVersionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                          mixins.UpdateModelMixin, mixins.DestroyModelMixin, OrganisationViewSet):
    queryset = ModelVersion.objects.none()
    serializer_class = ModelVersionSerializer
    write_action = Permission.EDIT_REGISTRY
    filters = VERSION_FILTERS
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    def scoped_queryset(self) -> Any:
        return selectors.model_versions_for(self.access).select_related("training_card")

    def perform_create(self, serializer: ModelVersionSerializer) -> None:
        data = dict(serializer.validated_data)
        system, checkpoint = data.pop("ai_system"), data.pop("checkpoint", None)
        data.setdefault("pretrained_tag", "")
        serializer.instance = service_call(services.model_version_create, ai_system=system,
                                           actor=self.request.user, data=data, checkpoint=checkpoint)

    def perform_update(self, serializer: ModelVersionSerializer) -> None:
        serializer.instance = service_call(services.model_version_update, model_version=serializer.instance,
                                           actor=self.request.user, data=serializer.validated_data)

    def perform_destroy(self, instance: Any) -> None:
        service_call(services.model_version_delete, model_version=instance, actor=self.request.user)

    @extend_schema(request=TrainingCardSerializer, responses={200: TrainingCardSerializer})
    @action(detail=True, methods=["get", "put"], url_path="training-card", parser_classes=[JSONParser])
    def training_card(self, request: Request, pk: str | None = None, **kwargs: Any) -> Response:
        """The training-objective card: the audit questions on the loss function."""
        version = self.get_object()
        if request.method == "GET":
            card = TrainingObjectiveCard.objects.filter(model_version=version).first()
            return Response(TrainingCardSerializer(card).data if card else {}, status=200 if card else 404)
        payload = TrainingCardSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        card = service_call(services.training_card_save, model_version=version, actor=request.user,
                            data=payload.validated_data)
        return Response(TrainingCardSerializer(card).data)


class DatasetViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                     mixins.DestroyModelMixin, OrganisationViewSet):
    queryset = Dataset.objects.none()
    serializer_class = DatasetSerializer
    write_action = Permission.EDIT_REGISTRY
    parser_classes = [MultiPartParser, FormParser]

    def scoped_queryset(self) -> Any:
        return selectors.datasets_for(self.access)

    def perform_create(self, serializer: DatasetSerializer) -> None:
        data = serializer.validated_data
        serializer.instance = service_call(
            services.dataset_create, organisation=self.access.organisation, actor=self.request.user,
            name=data["name"], file=data["file"], ai_system=data.get("ai_system"),
            description=data.get("description", ""))

    def perform_destroy(self, instance: Any) -> None:
        service_call(services.dataset_delete, dataset=instance, actor=self.request.user)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response = super().create(request, *args, **kwargs)
        response.status_code = status.HTTP_201_CREATED
        return response
