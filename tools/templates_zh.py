"""The zh-CN draft templates: 投诉材料, 报案材料, 民事起诉状（要素式）, 证据目录.

Legal citations used below (all marked verified in shared/LEGAL_FACTS.md and in law.yaml, as_of
2026-11-01): 民法典 第1032、1033、1034、1183条; 个人信息保护法 第10条; 刑法 第253条之一、第293条之一.
Reported facts (治安管理处罚法, GB/T 45251—2025, 互金协会自律公约, 个人信息保护法's presumption of
fault) are worded softly (据报道 / 一般认为) and without article numbers, as law.yaml does.
"""

from __future__ import annotations

from docx.document import Document as DocxDocument
from docx.enum.table import WD_TABLE_ALIGNMENT

from tools.templates_common import (
    B,
    Look,
    cell_text,
    element_table,
    loop_table,
    new_document,
    p,
    repeat_header,
    set_widths,
)

LOOK = Look(
    "文书标题",
    "文书副标题",
    "小节标题",
    "表格文字",
    "使用说明",
    "数字指纹",
    "{{ doc.title }}（草稿）· 生成日期：{{ doc.made_on }}",
)


def incident_table(doc) -> None:
    loop_table(
        LOOK,
        doc,
        ["序号", "时间", "被联系的人", "方式", "对方号码", "经过", "证据"],
        "for i in incidents",
        [
            "{{ i.no }}",
            "{{ i.time }}{% if i.night %}（夜间）{% endif %}",
            "{{ i.relation }}",
            "{{ i.channel }}",
            "{{ i.collector }}",
            "{{ i.note }}",
            "{{ i.evidence }}",
        ],
        [1.0, 3.2, 2.2, 1.8, 2.8, 4.0, 2.0],
    )


def evidence_table(doc) -> None:
    loop_table(
        LOOK,
        doc,
        ["序号", "证据名称", "证明内容", "数字指纹（SHA-256）", "收到时间"],
        "for e in evidence.rows",
        ["{{ e.no }}", "{{ e.name }}", "{{ e.proves }}", "{{ e.sha256 }}", "{{ e.time }}"],
        [1.0, 4.2, 4.3, 4.7, 2.8],
        mono=3,
    )


LOG_SENTENCE = (
    "{% if log.total %}自{{ log.first }}至{{ log.last }}，催收人员共联系本人及本人的亲友、同事等{{ log.total }}次，"
    "分布在{{ log.days }}天里，其中{{ log.night }}次在夜间22:00至次日8:00。被联系的人："
    "{% for r in log.by_relation %}{{ r.name }}{{ r.count }}次{% if not loop.last %}、{% endif %}{% endfor %}；"
    "方式：{% for c in log.by_channel %}{{ c.name }}{{ c.count }}次{% if not loop.last %}、{% endif %}{% endfor %}；"
    "对方使用的号码：{{ log.collectors }}。{% else %}催收人员联系本人及亲友的时间、次数和方式：" + B + "。{% endif %}"
)
LOAN_SENTENCE = (
    "本人于{{ facts.received_on }}通过“{{ facts.app }}”借款，合同金额{{ facts.contract_amount }}元，"
    "实际到手{{ facts.received_amount }}元，已还{{ facts.paid_so_far }}元，自{{ facts.overdue_since }}起逾期。"
)


def closing(doc, signer: str) -> None:
    p(doc)
    p(doc, f"{signer}（签名）：" + B + "　　　　日期：" + B + "年" + B + "月" + B + "日")
    p(doc)
    p(doc, "使用说明（递交前请删除本段）", LOOK.note, bold_lead="")
    p(doc, "{{ doc.disclaimer }}", LOOK.note)
    p(
        doc,
        "本草稿生成于{{ doc.made_on }}。带“{{ doc.blank }}”的地方是机器人不知道的内容，请手写补全或删去。",
        LOOK.note,
    )


# ----------------------------------------------------------------------------- the four drafts


def complaint() -> DocxDocument:
    doc = new_document(LOOK)
    p(doc, "投诉材料", LOOK.title)
    p(doc, "（草稿）", LOOK.subtitle)
    p(doc, "致：" + B + "（例如：国家金融监督管理总局12378热线、所在地地方金融管理局、中国互联网金融协会举报平台）")
    p(doc, "一、投诉人", LOOK.section)
    p(doc, "姓名：{{ person.name }}　　所在城市：{{ person.city }}")
    p(doc, "身份证号：" + B + "　　联系电话：" + B)
    p(doc, "二、被投诉人", LOOK.section)
    p(doc, "借款平台（App）：{{ facts.app }}")
    p(doc, "放款机构（借款合同上的出借人）：{{ facts.lender }}")
    p(doc, "催收机构：{{ facts.collector_company }}")
    p(doc, "催收人员使用的号码：{{ log.collectors }}")
    p(doc, "三、投诉事项", LOOK.section)
    p(
        doc,
        "被投诉人或其委托的催收人员，使用本人手机通讯录里的联系人信息，向与借款无关的亲友、同事催收，反复骚扰本人和他们的生活。",
    )
    p(doc, "四、事实经过", LOOK.section)
    p(doc, LOAN_SENTENCE)
    p(doc, LOG_SENTENCE)
    p(
        doc,
        "本人从未同意对方用通讯录里的联系人信息催收，被联系的亲友、同事也没有同意。逐次记录见附件一，证据见附件二（共{{ evidence.count }}件，每件附数字指纹）。",
    )
    p(doc, "五、投诉依据", LOOK.section)
    p(
        doc,
        "1. 《民法典》第1033条：未经本人明确同意，任何组织或个人不得用电话、短信、即时通讯工具等方式侵扰他人的私人生活安宁。",
    )
    p(doc, "2. 《民法典》第1034条：自然人的个人信息受法律保护，电话号码属于个人信息。")
    p(doc, "3. 《个人信息保护法》第10条：任何组织和个人不得非法收集、使用、提供或公开他人的个人信息。")
    p(
        doc,
        "4. 据报道，国家标准GB/T 45251—2025《互联网金融 个人网络消费信贷 贷后催收风控指引》要求原则上只向借款人本人催收、"
        "22:00至次日8:00不催收；中国互联网金融协会《互联网金融逾期债务催收自律公约（试行）》要求会员机构不得骚扰与债务无关的第三人。",
    )
    p(doc, "六、投诉请求", LOOK.section)
    p(doc, "1. 责令被投诉人及其委托的催收机构立即停止联系、骚扰本人的亲友和同事；")
    p(doc, "2. 责令其删除收集、使用的本人通讯录等个人信息，并说明这些信息从哪里来、给过谁；")
    p(doc, "3. 对上述催收行为依法调查处理；")
    p(doc, "4. 将处理结果告知本人。")
    p(doc, "{%p if filings.complaints %}")
    p(doc, "七、此前的投诉", LOOK.section)
    p(doc, "{%p for c in filings.complaints %}")
    p(doc, "{{ c.date }}向{{ c.channel }}投诉，受理编号：{{ c.reference }}。")
    p(doc, "{%p endfor %}")
    p(doc, "{%p endif %}")
    closing(doc, "投诉人")
    p(doc, "附件一：催收骚扰记录（共{{ log.total }}次，夜间{{ log.night }}次）", LOOK.section)
    incident_table(doc)
    p(doc, "附件二：证据清单（共{{ evidence.count }}件）", LOOK.section)
    evidence_table(doc)
    return doc


def police() -> DocxDocument:
    doc = new_document(LOOK)
    p(doc, "报案材料", LOOK.title)
    p(doc, "（草稿）", LOOK.subtitle)
    p(doc, "致：{{ filings.station }}")
    p(doc, "一、报案人", LOOK.section)
    p(doc, "姓名：{{ person.name }}　　身份证号：" + B + "　　联系电话：" + B)
    p(doc, "住址：{{ person.city }}" + B)
    p(doc, "二、被报案人", LOOK.section)
    p(doc, "催收机构：{{ facts.collector_company }}及其催收人员，使用的号码：{{ log.collectors }}")
    p(doc, "借款平台（App）：{{ facts.app }}；放款机构：{{ facts.lender }}")
    p(doc, "三、报案事由", LOOK.section)
    p(
        doc,
        "催收人员获取并使用本人手机通讯录中亲友、同事的个人信息，以电话、短信等方式反复骚扰本人和他们（俗称“爆通讯录”）。",
    )
    p(doc, "四、事实经过", LOOK.section)
    p(doc, LOAN_SENTENCE)
    p(doc, LOG_SENTENCE)
    p(doc, "逐次记录见下表，证据见第七部分。")
    incident_table(doc)
    p(doc, "五、报案人认为", LOOK.section)
    p(
        doc,
        "1. 对方获取、使用本人通讯录中众多联系人的电话号码，可能涉嫌《刑法》第253条之一规定的侵犯公民个人信息罪"
        "（出售、提供或者非法获取公民个人信息，情节严重的构成犯罪）。",
    )
    p(doc, "2. 据报道，依照《治安管理处罚法》，多次发送侮辱、恐吓或其他信息，干扰他人正常生活的，可以处拘留或罚款。")
    p(
        doc,
        "3. 如所催收的是高利放贷等产生的非法债务，以恐吓、跟踪、骚扰等方法催收、情节严重的，"
        "可能涉嫌《刑法》第293条之一规定的催收非法债务罪。",
    )
    p(doc, "六、请求", LOOK.section)
    p(doc, "1. 依法接受本人的报案，并出具接报案回执；")
    p(doc, "2. 依法调查处理，制止对本人和亲友的骚扰；")
    p(doc, "3. 依法追究相关人员的法律责任。")
    p(doc, "七、证据（共{{ evidence.count }}件）", LOOK.section)
    evidence_table(doc)
    p(doc, "{%p if filings.complaints %}")
    p(doc, "八、已经做过的投诉", LOOK.section)
    p(doc, "{%p for c in filings.complaints %}")
    p(doc, "{{ c.date }}向{{ c.channel }}投诉，受理编号：{{ c.reference }}。")
    p(doc, "{%p endfor %}")
    p(doc, "{%p endif %}")
    closing(doc, "报案人")
    return doc


def lawsuit() -> DocxDocument:
    doc = new_document(LOOK)
    p(doc, "民事起诉状", LOOK.title)
    p(doc, "（草稿 · 隐私权、个人信息保护纠纷 · 参照要素式起诉状的格式）", LOOK.subtitle)
    p(doc, "说明：本表按要素逐项填写；带“{{ doc.blank }}”的地方请补全，不适用的写“无”。", LOOK.note)
    p(doc, "当事人信息", LOOK.section)
    element_table(
        LOOK,
        doc,
        [
            (
                "原告",
                "姓名：{{ person.name }}　性别："
                + B
                + "　出生日期："
                + B
                + "　民族："
                + B
                + "　身份证号："
                + B
                + "　住所：{{ person.city }}"
                + B
                + "　联系电话："
                + B,
            ),
            (
                "被告一（放款机构）",
                "名称：{{ facts.lender }}　住所：" + B + "　法定代表人：" + B + "　统一社会信用代码：" + B,
            ),
            (
                "被告二（催收机构）",
                "名称：{{ facts.collector_company }}　住所：" + B + "　法定代表人：" + B + "　统一社会信用代码：" + B,
            ),
            ("借款平台", "“{{ facts.app }}”，运营者：" + B),
            ("委托诉讼代理人", "有□　无□　姓名：" + B),
        ],
    )
    p(doc, "诉讼请求和依据", LOOK.section)
    element_table(
        LOOK,
        doc,
        [
            ("1. 停止侵害", "判令被告立即停止以电话、短信、即时通讯工具等方式联系、骚扰原告及原告的亲友、同事"),
            ("2. 删除信息", "判令被告删除其收集、保存的原告手机通讯录等个人信息"),
            ("3. 赔礼道歉", "判令被告向原告书面赔礼道歉"),
            (
                "4. 赔偿损失",
                "判令被告赔偿精神损害抚慰金"
                + B
                + "元、经济损失"
                + B
                + "元（如误工费、通讯费、交通费），合计"
                + B
                + "元",
            ),
            ("5. 诉讼费用", "本案诉讼费用由被告负担"),
            ("标的总额", B + "元"),
            ("请求依据", "《民法典》第1032条、第1033条、第1034条、第1183条；《个人信息保护法》第10条"),
        ],
    )
    p(doc, "约定管辖和诉讼保全", LOOK.section)
    element_table(
        LOOK,
        doc,
        [
            ("有无仲裁、法院管辖约定", "有□　无□　" + B),
            ("是否已申请诉前保全", "是□　否□"),
        ],
    )
    p(doc, "事实和理由", LOOK.section)
    element_table(
        LOOK,
        doc,
        [
            ("1. 借款情况", LOAN_SENTENCE.replace("本人", "原告")),
            (
                "2. 被告取得通讯录的经过",
                "原告使用“{{ facts.app }}”时" + B + "（请写明：是否被要求授权读取通讯录，何时发现亲友被联系）。",
            ),
            ("3. 侵害行为", LOG_SENTENCE.replace("本人", "原告") + "逐次记录见附件一。"),
            ("4. 损害后果", B + "（例如：亲友、同事知道了欠款，关系受损；被单位约谈；失眠、就医。请附证明。）"),
            (
                "5. 被告的过错",
                "被告未经原告及其亲友同意，收集、使用通讯录中的个人信息催收，侵扰原告的私人生活安宁。"
                "一般认为，依照《个人信息保护法》，处理个人信息侵害个人权益造成损害、处理者不能证明自己没有过错的，应当承担侵权责任。",
            ),
            (
                "6. 其他需要说明的情况",
                "{% for c in filings.complaints %}{{ c.date }}已向{{ c.channel }}投诉（受理编号：{{ c.reference }}）；{% endfor %}"
                "{% for r in filings.police %}{{ r.date }}已向{{ r.station }}报案（接报案回执：{{ r.receipt }}）；{% endfor %}"
                "{% if not filings.complaints and not filings.police %}无{% endif %}",
            ),
            ("7. 证据", "共{{ evidence.count }}件，见附件二《证据清单》，每件附数字指纹（SHA-256）。"),
        ],
    )
    p(doc)
    p(doc, "此致")
    p(doc, "{% if filings.court_known %}{{ filings.court }}{% else %}" + B + "人民法院{% endif %}")
    closing(doc, "起诉人")
    p(doc, "附件一：催收骚扰记录（共{{ log.total }}次，夜间{{ log.night }}次）", LOOK.section)
    incident_table(doc)
    p(doc, "附件二：证据清单（共{{ evidence.count }}件）", LOOK.section)
    evidence_table(doc)
    return doc


def evidence() -> DocxDocument:
    doc = new_document(LOOK, landscape=True)
    p(doc, "证据目录", LOOK.title)
    p(doc, "（草稿）", LOOK.subtitle)
    p(
        doc,
        "提交人：{{ person.name }}　　证据共{{ evidence.count }}件　　催收骚扰记录：共{{ log.total }}次，夜间{{ log.night }}次，分布在{{ log.days }}天",
    )
    p(
        doc,
        "说明：每件证据的“数字指纹”是它保存时计算的SHA-256值，文件改动哪怕一个字节，指纹就完全不同，"
        "可以用来核对文件在保存后没有被改过；它不能单独证明文件的来源，必要时可以办理公证或可信时间戳存证。",
        LOOK.note,
    )
    widths = [1.2, 5.4, 2.8, 5.0, 7.8, 3.5]
    table = doc.add_table(rows=7, cols=6)
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text in zip(table.rows[0].cells, ["序号", "证据名称", "来源", "证明内容", "数字指纹（SHA-256）", "时间"]):
        cell_text(LOOK, cell, text, bold=True)
    repeat_header(table.rows[0])
    cell_text(LOOK, table.rows[1].cells[0], "{%tr for g in evidence.groups %}")
    group = table.rows[2].cells[0].merge(table.rows[2].cells[-1])
    cell_text(LOOK, group, "{{ g.title }}（{{ g.count }}件）　证明：{{ g.proves }}", bold=True)
    cell_text(LOOK, table.rows[3].cells[0], "{%tr for e in g.rows %}")
    for i, (cell, text) in enumerate(
        zip(
            table.rows[4].cells,
            ["{{ e.no }}", "{{ e.name }}", "{{ e.source }}", "{{ e.proves }}", "{{ e.sha256 }}", "{{ e.time }}"],
        )
    ):
        cell_text(LOOK, cell, text, mono=i == 4)
    cell_text(LOOK, table.rows[5].cells[0], "{%tr endfor %}")
    cell_text(LOOK, table.rows[6].cells[0], "{%tr endfor %}")
    set_widths(table, widths)
    p(doc)
    p(doc, "提交人（签名）：" + B + "　　　　日期：" + B + "年" + B + "月" + B + "日")
    p(doc)
    p(doc, "使用说明（递交前请删除本段）", LOOK.note)
    p(doc, "{{ doc.disclaimer }}", LOOK.note)
    p(doc, "本目录生成于{{ doc.made_on }}。带“{{ doc.blank }}”的地方请手写补全。", LOOK.note)
    return doc


BUILDERS = {"complaint": complaint, "police": police, "lawsuit": lawsuit, "evidence": evidence}
