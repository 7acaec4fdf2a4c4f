"""The scope-to-part rule of --breakdown on op names alone (real graphs: test_breakdown_steps)."""

import pytest

from bench.results import attribution
from bench.results.attribution import OpRow, Place, Scopes, attribute, place_of

SCOPES = Scopes(model="resnet_v2_50")


@pytest.mark.parametrize("name, level, expected", [
    ("resnet_v2_50/Pad", "blocks", Place("root", False, 0)),
    ("resnet_v2_50/conv1/Conv2D", "blocks", Place("root", False, 0)),
    ("resnet_v2_50/pool1/MaxPool", "blocks", Place("root", False, 0)),
    ("resnet_v2_50/block3/unit_5/bottleneck_v2/conv2/Conv2D", "blocks", Place("block3", False, 0)),
    ("resnet_v2_50/block3/unit_5/bottleneck_v2/conv2/Conv2D", "units", Place("block3/unit_5", False, 0)),
    ("resnet_v2_50/postnorm/FusedBatchNormV3", "blocks", Place("head", False, 0)),
    ("resnet_v2_50/pool5", "blocks", Place("head", False, 0)),
    ("resnet_v2_50/logits/BiasAdd", "blocks", Place("head", False, 0)),
    ("resnet_v2_50/SpatialSqueeze", "blocks", Place("head", False, 0)),
    ("gradients/resnet_v2_50/pool5_grad/Tile", "blocks", Place("head", True, 0)),
    ("gradients/resnet_v2_50/block1/unit_2/bottleneck_v2/conv1/Conv2D_grad/Conv2DBackpropInput", "units",
     Place("block1/unit_2", True, 0)),
    ("gradients/resnet_v2_50/conv1/Conv2D_grad/Conv2DBackpropFilter", "blocks", Place("root", True, 0)),
    ("loss/Mean", "blocks", Place("loss", False, 0)),
    ("gradients/loss/Mean_grad/Tile", "blocks", Place("loss", True, 0)),
    ("Momentum/update_resnet_v2_50/block1/unit_1/bottleneck_v2/conv1/weights/ApplyMomentum", "blocks",
     Place("optimizer", False, 0)),
    ("replica_1/resnet_v2_50/block2/unit_1/bottleneck_v2/conv1/Conv2D", "blocks", Place("block2", False, 1)),
    ("replica_1/gradients/resnet_v2_50/block4/unit_3/bottleneck_v2/add_grad/Sum", "units",
     Place("block4/unit_3", True, 1)),
    ("ConstantFolding/gradients/resnet_v2_50/block2/unit_2/bottleneck_v2/conv2/Conv2D_grad/ShapeN-matshapes-1",
     "blocks", Place("block2", True, 0)),
    ("resnet_v2_50/block1/unit_1/bottleneck_v2/conv1/Conv2D:_MklConv2D", "blocks", Place("block1", False, 0)),
    # the transposes Grappler's layout optimizer adds around an NCHW op carry its name
    ("resnet_v2_50/conv1/Conv2D-0-TransposeNHWCToNCHW-LayoutOptimizer", "blocks", Place("root", False, 0)),
    ("synthetic_inputs/images", "blocks", Place("other", False, 0)),
    ("_SOURCE", "blocks", Place("other", False, 0)),
    ("resnet_v2_501/block1/unit_1/conv1/Conv2D", "blocks", Place("other", False, 0)),
    ("resnet_v2_50/predictions/Softmax", "blocks", Place("other", False, 0)),
    ("gradients/AddN_7", "blocks", Place("other", True, 0)),
])
def test_each_scope_names_its_part(name, level, expected):
    assert place_of(name, SCOPES, level) == expected


ROWS = [
    OpRow("resnet_v2_50/conv1/Conv2D", 100.0, 1000),
    OpRow("resnet_v2_50/block1/unit_1/bottleneck_v2/conv1/Conv2D", 200.0, 3000),
    OpRow("resnet_v2_50/block1/unit_2/bottleneck_v2/conv1/Conv2D", 300.0, 3000),
    OpRow("resnet_v2_50/block1/unit_2/bottleneck_v2/conv1/BiasAdd", 0.0, 50),  # fused away: FLOPs only
    OpRow("gradients/resnet_v2_50/block1/unit_2/bottleneck_v2/conv1/Conv2D_grad/Conv2DBackpropInput",
          500.0, 6000),
    OpRow("gradients/AddN_3", 40.0, 10, inputs=("gradients/AddN_2",
                                              "gradients/resnet_v2_50/block1/unit_2/bottleneck_v2/add_grad/x")),
    OpRow("gradients/AddN_9", 5.0, 0, inputs=("gradients/AddN_8",)),
    OpRow("resnet_v2_50/logits/Conv2D", 30.0, 70),
    OpRow("loss/Mean", 2.0, 4),
    OpRow("Momentum/update_resnet_v2_50/conv1/weights/ApplyMomentum", 60.0, 0),
    OpRow("synthetic_inputs/images", 7.0, 0),
    OpRow("replica_1/resnet_v2_50/block1/unit_1/bottleneck_v2/conv1/Conv2D", 250.0, 3000),
]


def test_every_row_is_in_exactly_one_part_and_the_parts_add_up():
    found = attribute(ROWS, SCOPES, "blocks")
    assert [part.name for part in found.parts] == ["root", "block1", "head", "loss", "optimizer", "other"]
    assert found.op_ms == pytest.approx(sum(row.time_us for row in ROWS) / 1e3)
    assert found.flops == sum(row.flops for row in ROWS)
    block1 = found.part("block1")
    assert block1.forward_ms == pytest.approx((200 + 300 + 250) / 1e3)
    assert block1.backward_ms == pytest.approx((500 + 40) / 1e3)  # the AddN through its input
    assert (block1.forward_flops, block1.backward_flops) == (9050, 6010)
    other = found.part("other")
    assert other.forward_ms == pytest.approx((5 + 7) / 1e3)  # AddN_9 names no part, nor does its input
    assert found.replica_op_ms == pytest.approx([(sum(row.time_us for row in ROWS) - 250) / 1e3, 0.25])


def test_units_level_splits_the_blocks_and_keeps_their_order():
    found = attribute(ROWS, SCOPES, "units")
    assert [part.name for part in found.parts][:3] == ["root", "block1/unit_1", "block1/unit_2"]
    assert found.part("block1/unit_2").backward_ms == pytest.approx(0.54)
    assert found.op_ms == pytest.approx(attribute(ROWS, SCOPES, "blocks").op_ms)


def test_an_unknown_level_is_refused():
    with pytest.raises(ValueError, match="breakdown level 'layers': choose from blocks, units"):
        attribute(ROWS, SCOPES, "layers")


def test_a_step_without_an_op_of_the_model_is_refused_naming_the_scopes():
    found = attribute(ROWS, Scopes(model="resnet_v2_101"), "blocks")
    with pytest.raises(ValueError, match="found no op of the model .*resnet_v2_101/conv1, .*"
                                         "resnet_v2_101/block1..block4"):
        attribution.require_model_ops(found, Scopes(model="resnet_v2_101"))
    assert attribution.require_model_ops(attribute(ROWS, SCOPES), SCOPES).model_ops == 8
