"""Record histories for the replay test (`python -m tests.integration.workflows.record_histories`).

Run it with the workflow code of a release; the JSON files it writes are committed, and the
replay test keeps every later version of the code able to continue those runs.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import uuid
from decimal import Decimal
from pathlib import Path

from temporalio.client import WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from core.app.bootstrap import build_services
from core.app.demo import load_demo
from core.app.workflows import SmsNotifier, fulfilment_activities, make_worker
from core.clock import SteppedClock
from core.config import Settings
from core.db.migrate import upgrade
from core.ids import SeededIds
from core.money import Money
from core.phone import Phone
from core.region import RegionCode
from engines.fulfilment.effects import SqlEffectLog
from engines.fulfilment.model import (
    DeliveryConfirmed,
    DriverAssigned,
    FulfilmentInput,
    PaymentNotice,
    RoutePlanned,
    Stage,
)
from engines.fulfilment.workflows import (
    OrderFulfilmentWorkflow,
    order_workflow_id,
    payment_workflow_id,
)
from engines.orders import CartLine, PaymentMethod, PlaceOrder
from tests.integration.workflows.conftest import NGOZI, RICE, test_server_binary, until_stage
from tests.support.credit import credit_history

HERE = Path(__file__).parent / "histories"
NOODLES = "NDL-INDO-CHK"
NO_CREDIT = Phone("+2348030000444")  # no delivered orders: the credit line refuses


async def _stage(handle: WorkflowHandle[OrderFulfilmentWorkflow, object], stage: Stage) -> None:
    await until_stage(handle, stage)


async def record(tag: str, url: str) -> None:
    clock = SteppedClock()
    services = build_services(
        Settings(env="test", database_url=url, _env_file=None), clock=clock, ids=SeededIds()
    )
    await load_demo(services.db, clock.now())
    notifier = SmsNotifier(
        services.notifications, services.customers, services.orders, services.translate, "twilio"
    )
    assert services.money is not None
    activities = fulfilment_activities(
        SqlEffectLog(services.db, clock),
        clock,
        services.orders,
        notifier,
        gig=services.gig,
        credit=services.money.credit,
    )
    await credit_history(services, clock, NGOZI.e164)
    await services.money.credit.decide(NGOZI)
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter,
        test_server_existing_path=str(test_server_binary()),
    )
    queue = f"record-{uuid.uuid4().hex[:6]}"

    async def order(
        method: PaymentMethod = PaymentMethod.ON_DELIVERY, customer: Phone = NGOZI, sku: str = RICE
    ) -> str:
        placed = await services.orders.place(
            PlaceOrder(
                customer,
                RegionCode.LAGOS,
                (CartLine(sku, 2),),
                method,
                uuid.uuid4().hex,
                clear_cart=False,
            )
        )
        return placed.reference

    async def deliver(handle: WorkflowHandle[OrderFulfilmentWorkflow, object]) -> None:
        await _stage(handle, Stage.IN_WAVE)
        await handle.signal(OrderFulfilmentWorkflow.wave_picked)
        await handle.signal(OrderFulfilmentWorkflow.route_planned, RoutePlanned("R-1", 1))
        await handle.signal(OrderFulfilmentWorkflow.driver_assigned, DriverAssigned("D-1"))
        await _stage(handle, Stage.OUT_FOR_DELIVERY)
        await handle.signal(OrderFulfilmentWorkflow.driver_arrived)
        await handle.signal(OrderFulfilmentWorkflow.delivery_confirmed, DeliveryConfirmed())
        await handle.result()

    try:
        async with make_worker(env.client, queue, activities):
            delivered = await order()
            handle = await env.client.start_workflow(
                OrderFulfilmentWorkflow.run,
                FulfilmentInput(delivered),
                id=order_workflow_id(delivered),
                task_queue=queue,
            )
            await _stage(handle, Stage.IN_WAVE)
            await handle.signal(OrderFulfilmentWorkflow.wave_picked)
            await handle.signal(OrderFulfilmentWorkflow.route_planned, RoutePlanned("R-1", 1))
            await handle.signal(OrderFulfilmentWorkflow.driver_assigned, DriverAssigned("D-1"))
            await _stage(handle, Stage.OUT_FOR_DELIVERY)
            await handle.signal(OrderFulfilmentWorkflow.driver_arrived)
            await handle.signal(OrderFulfilmentWorkflow.delivery_confirmed, DeliveryConfirmed())
            await handle.result()
            (HERE / f"order_delivered_{tag}.json").write_text(
                (await handle.fetch_history()).to_json()
            )

            expired = await order()
            handle = await env.client.start_workflow(
                OrderFulfilmentWorkflow.run,
                FulfilmentInput(expired, payment_method="MPESA"),
                id=order_workflow_id(expired),
                task_queue=queue,
            )
            await handle.result()
            (HERE / f"order_payment_expired_{tag}.json").write_text(
                (await handle.fetch_history()).to_json()
            )

            early = await order()
            total = (await services.orders.get(early)).total
            handle = await env.client.start_workflow(
                OrderFulfilmentWorkflow.run,
                FulfilmentInput(early, payment_method="MPESA"),
                id=order_workflow_id(early),
                task_queue=queue,
                start_signal="payment_received",
                start_signal_args=[PaymentNotice("mpesa", "QK1", total)],
            )
            await _stage(handle, Stage.IN_WAVE)
            await handle.signal(OrderFulfilmentWorkflow.cancel)
            await handle.result()
            payment = env.client.get_workflow_handle(payment_workflow_id(early))
            (HERE / f"payment_paid_early_{tag}.json").write_text(
                (await payment.fetch_history()).to_json()
            )

            # M-Pesa rounds up to whole shillings: more than the total pays the order.
            rounded = await order()
            total = (await services.orders.get(rounded)).total
            more = Money(total.amount + Decimal("0.60"), total.currency)
            handle = await env.client.start_workflow(
                OrderFulfilmentWorkflow.run,
                FulfilmentInput(rounded, payment_method="MPESA"),
                id=order_workflow_id(rounded),
                task_queue=queue,
            )
            await _stage(handle, Stage.AWAITING_PAYMENT)
            await handle.signal(
                OrderFulfilmentWorkflow.payment_received, PaymentNotice("mpesa", "QK2", more)
            )
            await deliver(handle)
            payment = env.client.get_workflow_handle(payment_workflow_id(rounded))
            (HERE / f"payment_rounded_up_{tag}.json").write_text(
                (await payment.fetch_history()).to_json()
            )
            (HERE / f"order_paid_rounded_up_{tag}.json").write_text(
                (await handle.fetch_history()).to_json()
            )

            # On credit: drawn on the line by the workflow, then delivered; or refused.
            drawn = await order(PaymentMethod.CREDIT, sku=NOODLES)  # within the line
            handle = await env.client.start_workflow(
                OrderFulfilmentWorkflow.run,
                FulfilmentInput(drawn),
                id=order_workflow_id(drawn),
                task_queue=queue,
            )
            await deliver(handle)
            (HERE / f"order_credit_drawn_{tag}.json").write_text(
                (await handle.fetch_history()).to_json()
            )
            refused = await order(PaymentMethod.CREDIT, NO_CREDIT)
            handle = await env.client.start_workflow(
                OrderFulfilmentWorkflow.run,
                FulfilmentInput(refused),
                id=order_workflow_id(refused),
                task_queue=queue,
            )
            await handle.result()
            (HERE / f"order_credit_refused_{tag}.json").write_text(
                (await handle.fetch_history()).to_json()
            )
            # Paid, out for delivery, then brought back (an operator resolved an escalated
            # stop as returned): refunded, returned, told (`take-back-returned-goods`).
            returned = await order()
            total = (await services.orders.get(returned)).total
            handle = await env.client.start_workflow(
                OrderFulfilmentWorkflow.run,
                FulfilmentInput(returned, payment_method="MPESA"),
                id=order_workflow_id(returned),
                task_queue=queue,
            )
            await _stage(handle, Stage.AWAITING_PAYMENT)
            await handle.signal(
                OrderFulfilmentWorkflow.payment_received, PaymentNotice("mpesa", "QK3", total)
            )
            await _stage(handle, Stage.IN_WAVE)
            await handle.signal(OrderFulfilmentWorkflow.wave_picked)
            await handle.signal(OrderFulfilmentWorkflow.route_planned, RoutePlanned("R-2", 1))
            await handle.signal(OrderFulfilmentWorkflow.driver_assigned, DriverAssigned("D-2"))
            await _stage(handle, Stage.OUT_FOR_DELIVERY)
            await handle.signal(OrderFulfilmentWorkflow.status_changed, "returned")
            await handle.result()
            (HERE / f"order_returned_{tag}.json").write_text(
                (await handle.fetch_history()).to_json()
            )
            # Out for delivery, recalled (its route expired before the door: packed again),
            # dispatched again, delivered: told it is on its way each time (`notify-each-dispatch`).
            recalled = await order()
            handle = await env.client.start_workflow(
                OrderFulfilmentWorkflow.run,
                FulfilmentInput(recalled),
                id=order_workflow_id(recalled),
                task_queue=queue,
            )
            await _stage(handle, Stage.IN_WAVE)
            await handle.signal(OrderFulfilmentWorkflow.wave_picked)
            await handle.signal(OrderFulfilmentWorkflow.route_planned, RoutePlanned("R-3", 1))
            await handle.signal(OrderFulfilmentWorkflow.driver_assigned, DriverAssigned("D-3"))
            await _stage(handle, Stage.OUT_FOR_DELIVERY)
            await handle.signal(OrderFulfilmentWorkflow.status_changed, "packed")
            await _stage(handle, Stage.PICKED)
            await handle.signal(OrderFulfilmentWorkflow.route_planned, RoutePlanned("R-4", 1))
            await handle.signal(OrderFulfilmentWorkflow.driver_assigned, DriverAssigned("D-4"))
            await handle.signal(OrderFulfilmentWorkflow.status_changed, "dispatched")
            await _stage(handle, Stage.OUT_FOR_DELIVERY)
            await handle.signal(OrderFulfilmentWorkflow.delivery_confirmed, DeliveryConfirmed())
            await handle.result()
            (HERE / f"order_redispatched_{tag}.json").write_text(
                (await handle.fetch_history()).to_json()
            )
    finally:
        await env.shutdown()
        await services.close()


if __name__ == "__main__":
    database = f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'omniroute.db'}"
    upgrade(database)
    asyncio.run(record(sys.argv[1] if len(sys.argv) > 1 else "v1", database))
