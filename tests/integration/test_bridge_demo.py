"""The bridge part of `make demo`: LBC and a CUBE to Ethereum and back, every figure checked."""

from __future__ import annotations

from link_ops.testing.bridge_demo import run_bridge_demo


def test_bridge_demo__moves_lbc_and_a_cube_out_and_back_and_everything_adds_up(accounts):
    result = run_bridge_demo(accounts[0], accounts[1], accounts[7:10])

    assert [s.what.split(" ")[0] for s in result.steps] == ["LBC", "LBC", "CUBE", "CUBE"]
    out, back, cube_out, cube_home = result.steps
    assert out.ethereum_lbc > 0 and back.ethereum_lbc == out.ethereum_lbc // 2
    assert back.polygon_lbc == out.polygon_lbc + out.ethereum_lbc // 2
    assert (cube_out.cube_on, cube_home.cube_on) == ("ethereum", "polygon")
    assert all(s.send_gas > 21_000 and s.deliver_gas > 21_000 for s in result.steps)
    assert result.reward_while_away == result.expected_reward_while_away > 0
    assert result.supply_ethereum == result.locked_at_home == back.ethereum_lbc
