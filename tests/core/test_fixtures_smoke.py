from sqlalchemy import text


def test_every_role_has_a_user_in_a_fresh_database(engine, practice):
    with engine.connect() as conn:
        roles = {r for (r,) in conn.execute(text("SELECT role FROM app_user"))}
    assert roles == {"admin", "biller", "frontdesk", "manager", "auditor"}
