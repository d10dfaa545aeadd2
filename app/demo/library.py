"""The demo metric library over the demo warehouse, as plain definition dicts (docs/definitions.md).

Loaded by the demo command through the normal catalog service, so the demo exercises the
same validation, versioning and audit path as any department's definitions.
"""

from __future__ import annotations

from typing import Any

SOURCE = "warehouse"


def _col(
    name: str, type_: str, label: str | None = None, *, dimension: bool = False, description: str | None = None
) -> dict[str, Any]:
    column: dict[str, Any] = {"name": name, "type": type_}
    if dimension:
        column["dimension"] = True
    if label:
        column["label"] = label
    if description:
        column["description"] = description
    return column


DATASETS: list[dict[str, Any]] = [
    {
        "name": "regions", "domain": "sales", "source": SOURCE, "table": "regions", "owner": "alice",
        "description": "Sales regions and their managers.",
        "primary_key": "region_id",
        "columns": [
            _col("region_id", "integer"),
            _col("region", "string", "区域", dimension=True),
            _col("manager", "string", "区域经理", dimension=True),
        ],
    },
    {
        "name": "customers", "domain": "sales", "source": SOURCE, "table": "customers", "owner": "alice",
        "description": "One row per customer, numbered in signup order.",
        "primary_key": "customer_id", "time_column": "signup_date",
        "columns": [
            _col("customer_id", "string"),
            _col("name", "string", "客户名称"),
            _col("region_id", "integer"),
            _col("segment", "string", "客户分层", dimension=True, description="Consumer, SMB or Corporate"),
            _col("signup_date", "date", "注册日期"),
            _col("country", "string", "国家", dimension=True),
            _col("city", "string", "城市", dimension=True),
        ],
        "joins": [{"dataset": "regions", "on": {"region_id": "region_id"}}],
    },
    {
        "name": "orders", "domain": "sales", "source": SOURCE, "table": "orders", "owner": "alice",
        "description": "One row per order; amount is net of discount.",
        "primary_key": "order_id", "time_column": "ordered_at",
        "columns": [
            _col("order_id", "string"),
            _col("customer_id", "string"),
            _col("region", "string", "区域", dimension=True, description="the customer's region at order time"),
            _col("channel", "string", "渠道", dimension=True, description="online or store"),
            _col("status", "string", "订单状态", dimension=True, description="paid, refunded or cancelled"),
            _col("ordered_at", "timestamp", "下单时间"),
            _col("amount", "decimal", "订单金额", description="CNY, after discount"),
            _col("discount", "decimal", "优惠金额", description="CNY"),
            _col("is_first_order", "boolean", "是否首单", dimension=True,
                 description="the customer's first paid order ever; customers who signed up before 2025 have none here"),
        ],
        "dimensions": [
            {"name": "is_large", "type": "boolean", "expr": "amount >= 1000", "label": "大额订单"},
        ],
        "joins": [{"dataset": "customers", "on": {"customer_id": "customer_id"}}],
    },
    {
        "name": "order_payments", "domain": "sales", "source": SOURCE, "table": "order_payments", "owner": "bob",
        "description": "Money received against paid orders; an order may be paid in instalments, late or in part.",
        "primary_key": "payment_id", "time_column": "paid_at",
        "columns": [
            _col("payment_id", "string"),
            _col("order_id", "string"),
            _col("paid_at", "timestamp", "回款时间"),
            _col("amount", "decimal", "回款金额", description="CNY"),
        ],
        "joins": [{"dataset": "orders", "on": {"order_id": "order_id"}}],
    },
    {
        "name": "tickets", "domain": "service", "source": SOURCE, "table": "tickets", "owner": "carol",
        "description": "Customer service tickets with response and resolution times and an optional survey score.",
        "primary_key": "ticket_id", "time_column": "opened_at",
        "columns": [
            _col("ticket_id", "string"),
            _col("customer_id", "string"),
            _col("region", "string", "区域", dimension=True),
            _col("opened_at", "timestamp", "创建时间"),
            _col("first_response_at", "timestamp", "首次响应时间"),
            _col("resolved_at", "timestamp", "解决时间", description="null while unresolved"),
            _col("category", "string", "工单类别", dimension=True),
            _col("is_complaint", "boolean", "是否投诉", dimension=True),
            _col("satisfaction", "integer", "满意度评分", description="1-5; null when the customer was not surveyed"),
        ],
        "joins": [{"dataset": "customers", "on": {"customer_id": "customer_id"}}],
    },
]

_PAID = "status = 'paid'"


def _metric(key: str, name: str, **fields: Any) -> dict[str, Any]:
    domain = key.split(".", 1)[0]
    return {"key": key, "name": name, "domain": domain, **fields}


METRICS: list[dict[str, Any]] = [
    _metric(
        "sales.gmv", "销售额 / GMV", type="simple", dataset="orders", measure="SUM(amount)", filter=_PAID,
        description="Value of paid orders placed in the period, after discounts.",
        caliber="统计周期内下单且状态为已支付(paid)的订单金额合计(折后); 退款、取消订单不计入.",
        owner="alice", unit="CNY", level="strategic", review_frequency="monthly",
        tags=["revenue"], synonyms=["GMV", "gross merchandise value", "sales", "revenue", "成交额"],
    ),
    _metric(
        "sales.orders", "订单数 / Orders", type="simple", dataset="orders", measure="COUNT(order_id)", filter=_PAID,
        description="Number of paid orders placed in the period.",
        caliber="统计周期内下单且状态为已支付的订单笔数; 退款、取消订单不计入.",
        owner="alice", unit="count", level="tactical", review_frequency="weekly",
        tags=["volume"], synonyms=["order count", "paid orders", "订单量"],
    ),
    _metric(
        "sales.customers", "下单客户数 / Ordering customers", type="simple", dataset="orders",
        measure="COUNT(DISTINCT customer_id)", filter=_PAID,
        description="Distinct customers with at least one paid order in the period.",
        caliber="统计周期内至少有一笔已支付订单的客户数, 按客户去重.",
        owner="alice", unit="count", level="tactical", review_frequency="monthly",
        tags=["customers"], synonyms=["buyers", "active customers", "购买客户数"],
    ),
    _metric(
        "sales.repeat_customers", "复购客户数 / Repeat customers", type="simple", dataset="orders",
        measure="COUNT(DISTINCT customer_id)", filter="status = 'paid' AND NOT is_first_order",
        description="Distinct customers with a paid order in the period that was not their first.",
        caliber="统计周期内有已支付非首单订单的客户数, 按客户去重.",
        owner="alice", unit="count", level="tactical", review_frequency="monthly",
        tags=["retention"], synonyms=["returning customers", "回头客数"],
    ),
    _metric(
        "sales.repurchase_rate", "复购率 / Repurchase rate", type="ratio",
        numerator="sales.repeat_customers", denominator="sales.customers",
        description="Share of ordering customers in the period who placed a repeat (non-first) order.",
        caliber="统计周期内有复购订单(非首单)的客户数 / 下单客户数; only paid orders count.",
        owner="alice", unit="ratio", level="strategic", review_frequency="monthly",
        tags=["retention"], synonyms=["repeat purchase rate", "回购率"],
    ),
    _metric(
        "sales.avg_order_value", "客单价 / Average order value", type="derived", expr="{sales.gmv} / {sales.orders}",
        description="Average value of a paid order in the period.",
        caliber="销售额 / 订单数, 两者均只计已支付订单; 在查询粒度上分别汇总后相除.",
        owner="alice", unit="CNY", level="tactical", review_frequency="monthly",
        tags=["revenue"], synonyms=["AOV", "average basket", "平均订单金额"],
    ),
    _metric(
        "sales.new_customers", "新客户数 / New customers", type="simple", dataset="orders",
        measure="COUNT(DISTINCT customer_id)", filter="status = 'paid' AND is_first_order",
        description="Customers whose first paid order ever falls in the period.",
        caliber="统计周期内完成首笔已支付订单的客户数; 以订单首单标记(is_first_order)为准.",
        owner="alice", unit="count", level="strategic", review_frequency="monthly",
        tags=["growth", "customers"], synonyms=["first-time buyers", "acquired customers", "新客数"],
    ),
    _metric(
        "sales.gmv_ytd", "GMV 年累计 / GMV year to date", type="cumulative", base="sales.gmv", grain_to_date="year",
        description="GMV accumulated from 1 January of each year up to the end of each period.",
        caliber="自然年内自1月1日起至当期末的销售额累计, 每年1月重新累计.",
        owner="alice", unit="CNY", level="strategic", review_frequency="monthly",
        tags=["revenue"], synonyms=["YTD GMV", "year-to-date sales", "年度累计销售额"],
    ),
    _metric(
        "sales.collected", "回款额 / Cash collected", type="simple", dataset="order_payments", measure="SUM(amount)",
        description="Money received against paid orders, counted in the period it arrived.",
        caliber="统计周期内实际到账的订单回款金额合计, 按到账时间(paid_at)归属期间; 分期款逐笔计入.",
        owner="bob", unit="CNY", level="tactical", review_frequency="monthly",
        tags=["finance", "cash"], synonyms=["collections", "cash received", "payments received", "收款额"],
    ),
    _metric(
        "sales.collection_rate", "回款率 / Collection rate", type="ratio",
        numerator="sales.collected", denominator="sales.gmv",
        description="Cash collected in the period relative to the GMV booked in the period.",
        caliber="回款额 / 销售额; 回款按到账时间、销售额按下单时间归属期间, 故单月可能高于 1.",
        owner="bob", unit="ratio", level="strategic", review_frequency="monthly",
        tags=["finance", "cash"], synonyms=["cash collection rate", "收款率"],
    ),
    _metric(
        "service.tickets", "工单量 / Tickets", type="simple", dataset="tickets", measure="COUNT(ticket_id)",
        description="Service tickets opened in the period.",
        caliber="统计周期内新建的客服工单数(含投诉与咨询).",
        owner="carol", unit="count", level="operational", review_frequency="weekly",
        tags=["service"], synonyms=["ticket volume", "cases", "工单数"],
    ),
    _metric(
        "service.complaints", "投诉量 / Complaints", type="simple", dataset="tickets", measure="COUNT(ticket_id)",
        filter="is_complaint", direction="lower_is_better",
        description="Tickets opened in the period that were classed as complaints.",
        caliber="统计周期内新建且标记为投诉(is_complaint)的工单数.",
        owner="carol", unit="count", level="operational", review_frequency="weekly",
        tags=["service", "quality"], synonyms=["complaint count", "投诉数"],
    ),
    _metric(
        "service.complaint_rate", "投诉率 / Complaint rate", type="ratio",
        numerator="service.complaints", denominator="service.tickets", direction="lower_is_better",
        description="Share of the period's tickets that were complaints.",
        caliber="投诉工单数 / 工单总数, 均按工单创建时间归属期间.",
        owner="carol", unit="ratio", level="strategic", review_frequency="monthly",
        tags=["service", "quality"], synonyms=["complaint ratio", "投诉占比"],
    ),
    _metric(
        "service.csat", "客户满意度 / CSAT", type="simple", dataset="tickets", measure="AVG(satisfaction)",
        description="Average survey score (1-5) of tickets opened in the period; unsurveyed tickets are ignored.",
        caliber="统计周期内新建工单的满意度评分(1-5分)算术平均; 未评价工单不计入分母.",
        owner="carol", unit="score", level="strategic", review_frequency="monthly",
        tags=["service", "experience"], synonyms=["customer satisfaction", "satisfaction score", "满意度"],
    ),
    _metric(
        "service.avg_response_hours", "平均响应时长 / Average first response time", type="simple", dataset="tickets",
        measure="AVG(date_diff('minute', opened_at, first_response_at) / 60.0)", direction="lower_is_better",
        description="Average hours from a ticket being opened to its first response.",
        caliber="统计周期内新建工单从创建到首次响应的时长(小时, 按分钟计算)平均值; 自然时间, 不扣除非工作时间.",
        owner="carol", unit="hours", level="tactical", review_frequency="weekly",
        tags=["service", "sla"], synonyms=["first response time", "FRT", "response time", "首响时长"],
    ),
]


# --- KPIs: targets and the company scorecard ------------------------------------------------

# Demo targets are derived from the warehouse's actual values: target = actual × factor (actual ÷
# factor for lower-is-better metrics), so achievement is 1 ÷ factor: some periods are met, some missed.
TARGET_FACTORS = (0.95, 1.02, 1.08, 0.9, 1.0, 1.15, 0.97)
TARGET_YEARS = (2025, 2026)
EAST = {"orders.region": "East"}
TARGET_PLANS: list[tuple[str, str, dict[str, Any], str]] = [  # metric, grain, scope, owner
    ("sales.gmv", "month", {}, "alice"),
    ("sales.gmv", "month", EAST, "chen.jing"),
    ("sales.orders", "month", {}, "alice"),
    ("sales.orders", "quarter", EAST, "chen.jing"),
    ("sales.new_customers", "quarter", {}, "alice"),
    ("sales.repurchase_rate", "quarter", {}, "alice"),
    ("service.csat", "quarter", {}, "carol"),
    ("service.complaint_rate", "quarter", {}, "carol"),
    ("service.avg_response_hours", "quarter", {}, "carol"),
]
# Left without a target on purpose, so the scorecard shows how a missing target is reported.
TARGETS_LEFT_OUT = {("sales.repurchase_rate", "2026-Q4")}


def _node(metric: str, weight: float, **extra: Any) -> dict[str, Any]:
    return {"metric": metric, "weight": weight, **extra}


SCORECARD: dict[str, Any] = {
    "name": "company", "title": "公司经营计分卡 / Company scorecard", "domain": "sales", "owner": "alice",
    "description": "Strategy → sales and service → their KPIs, with the East region's sales as a subtree.",
    "cap": 1.2,
    "root": {"label": "strategy", "children": [
        {"label": "sales", "weight": 60, "children": [
            _node("sales.gmv", 40),
            _node("sales.new_customers", 20),
            _node("sales.repurchase_rate", 20),
            {"label": "East region", "weight": 20, "scope": EAST, "children": [
                _node("sales.gmv", 60), _node("sales.orders", 40),
            ]},
        ]},
        {"label": "service", "weight": 40, "children": [
            _node("service.csat", 40), _node("service.complaint_rate", 30), _node("service.avg_response_hours", 30),
        ]},
    ]},
}
