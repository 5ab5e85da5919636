"""Keeps the dynamic partitions in step with the files under `sources/`: a new WARC file or
collection folder becomes a partition without a code change or a click."""

from collections.abc import Sequence

import dagster as dg

from commons_assets.kinds import KINDS, SourceKind
from commons_assets.lake import Lake
from commons_assets.sources import layout


def partition_keys_on_disk(lake: Lake, kinds: Sequence[SourceKind] = KINDS) -> dict[str, list[str]]:
    """Dynamic partitions definition name -> keys the files under `sources/` define."""
    return {
        kind.partitions.name: list(kind.locate(lake.sources))
        for kind in kinds
        if isinstance(kind.partitions, dg.DynamicPartitionsDefinition) and kind.partitions.name
    }


def partition_requests(
    on_disk: dict[str, list[str]], registered: dict[str, list[str]]
) -> list[dg.AddDynamicPartitionsRequest | dg.DeleteDynamicPartitionsRequest]:
    """Requests that make the registered keys equal to the keys on disk."""
    requests: list[dg.AddDynamicPartitionsRequest | dg.DeleteDynamicPartitionsRequest] = []
    for name, keys in on_disk.items():
        known = set(registered.get(name, []))
        if added := [key for key in keys if key not in known]:
            requests.append(dg.AddDynamicPartitionsRequest(name, added))
        if removed := sorted(known - set(keys)):
            requests.append(dg.DeleteDynamicPartitionsRequest(name, removed))
    return requests


def apply_partition_requests(
    instance: dg.DagsterInstance,
    requests: list[dg.AddDynamicPartitionsRequest | dg.DeleteDynamicPartitionsRequest],
) -> None:
    """Carry out partition requests on an instance, as the sensor daemon does."""
    for request in requests:
        if isinstance(request, dg.AddDynamicPartitionsRequest):
            instance.add_dynamic_partitions(request.partitions_def_name, request.partition_keys)
        else:
            for key in request.partition_keys:
                instance.delete_dynamic_partition(request.partitions_def_name, key)


def sync_partitions(
    instance: dg.DagsterInstance, lake: Lake, kinds: Sequence[SourceKind] = KINDS
) -> dict[str, list[str]]:
    """Register the keys on disk directly (for `commons build` and tests, which run no daemon).
    Returns the keys on disk."""
    on_disk = partition_keys_on_disk(lake, kinds)
    registered = {name: list(instance.get_dynamic_partitions(name)) for name in on_disk}
    apply_partition_requests(instance, partition_requests(on_disk, registered))
    return on_disk


def source_partitions_sensor_for(kinds: Sequence[SourceKind]) -> dg.SensorDefinition:
    """The sensor that keeps every dynamic kind's partitions in step with sources/."""

    @dg.sensor(
        name="source_partitions",
        minimum_interval_seconds=15,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            "Registers a partition for every WARC file and collection folder under sources/ and "
            "removes partitions whose source is gone."
        ),
    )
    def source_partitions_sensor(
        context: dg.SensorEvaluationContext, lake: Lake
    ) -> dg.SensorResult | dg.SkipReason:
        on_disk = partition_keys_on_disk(lake, kinds)
        registered = {name: list(context.instance.get_dynamic_partitions(name)) for name in on_disk}
        requests = partition_requests(on_disk, registered)
        if unusable := layout.unusable_names(lake.sources):
            context.log.warning(f"these entries define no partition (name or type): {unusable}")
        if not requests:
            return dg.SkipReason("partitions match the files under sources/")
        return dg.SensorResult(dynamic_partitions_requests=requests)

    return source_partitions_sensor


source_partitions_sensor = source_partitions_sensor_for(KINDS)
