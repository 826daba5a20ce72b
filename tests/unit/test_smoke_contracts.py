def test_protocol__deployed__cubes_hold_lbc_minter_role(lbc, cubes):
    assert lbc.hasRole(lbc.MINTER_ROLE(), cubes.address)
