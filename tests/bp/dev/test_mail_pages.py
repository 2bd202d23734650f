"""/dev/mail: what the development run's catcher received, newest first, each message shown
safely (its HTML part sandboxed in a frame, its text part as text); development only."""

from __future__ import annotations

from email.headerregistry import Address
from typing import Any

from quart import Quart

from app import create_app
from bp.dev.mail_service import keep_caught
from bp.runtime import runtime
from services.mail import compose_message

HOSTILE_HTML = "<p>Hello <b>Ada</b></p><script>parent.document.title='owned'</script>"


async def catch(app: Quart, subject: str, *, html: str = "<p>Paid</p>") -> int:
    message = compose_message(
        sender=Address("Rose Ash cart", addr_spec="cart@rose-ash.test"),
        to=Address("Ada Lovelace", addr_spec="ada@example.coop"),
        subject=subject,
        text=f"{subject}\n\nTotal paid: £9.00 <not markup>",
        html=html,
        message_id="<m@rose-ash.test>",
    )
    return await keep_caught(
        runtime(app).redis.cart,
        raw=message.as_bytes(),
        envelope_from="cart@rose-ash.test",
        envelope_to=["ada@example.coop"],
    )


async def test_the_list_shows_caught_mail_newest_first(app: Quart, client: Any) -> None:
    first = await catch(app, "Order #1 is paid: thank you")
    second = await catch(app, "Order #2 is paid: thank you")

    response = await client.get("/dev/mail")

    page = await response.get_data(as_text=True)
    assert response.status_code == 200
    assert page.index("Order #2 is paid") < page.index("Order #1 is paid")
    assert f'href="/dev/mail/{second}"' in page and f'href="/dev/mail/{first}"' in page
    assert "To Ada Lovelace &lt;ada@example.coop&gt;" in page


async def test_an_empty_list_says_how_mail_arrives(client: Any) -> None:
    page = await (await client.get("/dev/mail")).get_data(as_text=True)
    assert "No mail yet" in page


async def test_a_message_shows_its_text_escaped_and_frames_its_html_sandboxed(
    app: Quart, client: Any
) -> None:
    caught = await catch(app, "Order #3 is paid: thank you", html=HOSTILE_HTML)

    page = await (await client.get(f"/dev/mail/{caught}")).get_data(as_text=True)

    assert "Order #3 is paid: thank you" in page
    assert "Total paid: £9.00 &lt;not markup&gt;" in page
    assert f'<iframe src="/dev/mail/{caught}/html" sandbox ' in page
    assert "<script>parent" not in page

    framed = await client.get(f"/dev/mail/{caught}/html")
    assert framed.status_code == 200
    policy = framed.headers["Content-Security-Policy"]
    assert "sandbox" in policy and "default-src 'none'" in policy and "script-src" not in policy
    assert framed.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert "<b>Ada</b>" in await framed.get_data(as_text=True)


async def test_an_unknown_message_is_a_clear_404(client: Any) -> None:
    for path in ("/dev/mail/999", "/dev/mail/999/html"):
        response = await client.get(path)
        assert response.status_code == 404
        assert "no such message" in await response.get_data(as_text=True)


async def test_there_is_no_mail_page_outside_development(app_config: dict[str, Any]) -> None:
    production_like = create_app({**app_config, "app_env": "test"})
    async with production_like.test_app():
        assert (await production_like.test_client().get("/dev/mail")).status_code == 404
