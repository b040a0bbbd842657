"""Search benchmark (issue 4): 2-character queries with a district filter over N articles.

    python bench/search_bench.py --articles 100000 --db sqlite
    python bench/search_bench.py --articles 100000 --db postgresql

Builds a fresh archive (SQLite file in --workdir, or the PostgreSQL database --pg-db on the
server of WENHUA_TEST_PG_URL, dropped and recreated) of synthetic culture-news articles,
inserted in bulk (not through the crawler): titles and bodies of about 800 characters
written from news-sentence templates whose slots are filled from word lists (art forms,
venues, events, organisations, towns, people) drawn with Zipf-like frequencies, so a few
words are everywhere and most are rarer, as in real text; 10 districts; 2016-2024
publication times. Then builds the search index with `archive.search.reindex_all` and
times `archive.search.search` — the whole call: matching, exact total, ranking, snippets —
for --queries 2-character words, each with a random district. The words are drawn
uniformly from the 2-character words of the lists, the most common ones (文化, 活动, 群众…)
included. Prints p50/p95/max in milliseconds and the number of matches per query, then
the same for other query kinds (--queries of each). Deterministic for a given --seed.

At a million articles (issue 20) the build is split: `--load-only`, then `--reuse
--memo-keys --no-queries` (index), then `--reuse --no-reindex` (queries). The SQLite
scratch file is written without a journal or fsync (SCRATCH_PRAGMAS): bench-only.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import event, func, insert, select, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import archive.search as search_module
from archive.db import Archive
from archive.models import Article, ArticleVersion, Site
from archive.search import document_keys, reindex_all, search

PG_URL = os.environ.get("WENHUA_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

DISTRICTS = (
    "路南区",
    "路北区",
    "古冶区",
    "开平区",
    "丰南区",
    "丰润区",
    "曹妃甸区",
    "滦州市",
    "迁安市",
    "遵化市",
)
ARTS = (
    "剪纸",
    "皮影戏",
    "评剧",
    "京剧",
    "昆曲",
    "豫剧",
    "越剧",
    "黄梅戏",
    "河北梆子",
    "乐亭大鼓",
    "冀东民歌",
    "秧歌",
    "高跷",
    "龙灯",
    "舞狮",
    "旱船",
    "花灯",
    "灯谜",
    "泥塑",
    "面塑",
    "糖画",
    "刺绣",
    "布艺",
    "草编",
    "柳编",
    "木雕",
    "石雕",
    "砖雕",
    "根雕",
    "陶艺",
    "瓷绘",
    "玉雕",
    "篆刻",
    "书法",
    "国画",
    "油画",
    "版画",
    "水彩",
    "素描",
    "漫画",
    "年画",
    "风筝",
    "太极拳",
    "八段锦",
    "武术",
    "象棋",
    "围棋",
    "古琴",
    "古筝",
    "二胡",
    "琵琶",
    "笛子",
    "唢呐",
    "葫芦丝",
    "民乐",
    "合唱",
    "舞蹈",
    "街舞",
    "朗诵",
    "相声",
    "小品",
    "快板",
    "评书",
    "鼓书",
    "曲艺",
    "杂技",
    "魔术",
    "话剧",
    "音乐剧",
    "摄影",
    "微电影",
    "茶艺",
    "插花",
    "汉服",
    "诗词",
    "楹联",
    "腰鼓",
    "锣鼓",
    "花鼓",
    "竹马",
    "跑驴",
    "社火",
    "庙会",
    "灯会",
    "拓印",
    "活字印刷",
    "造纸",
    "扎染",
    "蜡染",
    "香包",
    "葫芦烙画",
    "核雕",
    "内画",
    "景泰蓝",
    "唐山陶瓷",
    "评剧唱腔",
    "皮影雕刻",
)
VENUES = (
    "文化馆",
    "图书馆",
    "博物馆",
    "美术馆",
    "纪念馆",
    "科技馆",
    "档案馆",
    "少年宫",
    "文化站",
    "综合文化站",
    "文化广场",
    "城市书房",
    "农家书屋",
    "新时代文明实践站",
    "社区文化中心",
    "党群服务中心",
    "大剧院",
    "影剧院",
    "演艺中心",
    "展览馆",
    "非遗馆",
    "非遗工坊",
    "传习所",
    "文创园",
    "文化产业园",
    "南湖公园",
    "凤凰山公园",
    "湿地公园",
    "全民健身中心",
    "青年之家",
    "老年大学",
    "妇女儿童活动中心",
    "职工书屋",
    "乡村大舞台",
    "村史馆",
    "数字文化体验馆",
)
EVENTS = (
    "展演",
    "展览",
    "比赛",
    "大赛",
    "讲座",
    "培训班",
    "公益课",
    "体验课",
    "研学活动",
    "夏令营",
    "分享会",
    "读书会",
    "座谈会",
    "研讨会",
    "交流会",
    "演出",
    "汇演",
    "专场演出",
    "音乐会",
    "晚会",
    "联欢会",
    "开幕式",
    "颁奖典礼",
    "市集",
    "嘉年华",
    "文化节",
    "艺术节",
    "读书节",
    "惠民演出",
    "送戏下乡",
    "送文化下乡",
    "志愿服务",
    "宣讲",
    "快闪",
    "线上展播",
    "作品征集",
    "评选活动",
    "非遗周",
    "惠民季",
    "进校园活动",
    "进社区活动",
    "进乡村活动",
    "公开课",
    "工作坊",
    "雅集",
)
ORGS = (
    "市文化广电和旅游局",
    "区委宣传部",
    "区文化和旅游局",
    "市文联",
    "区文联",
    "市作家协会",
    "市美术家协会",
    "市书法家协会",
    "市音乐家协会",
    "市舞蹈家协会",
    "市摄影家协会",
    "市曲艺家协会",
    "市民间文艺家协会",
    "团区委",
    "区妇联",
    "区教育局",
    "街道办事处",
    "社区居委会",
    "村委会",
    "区融媒体中心",
    "市图书馆学会",
    "区总工会",
    "区老干部局",
    "区关工委",
    "志愿者协会",
)
PEOPLE = (
    "市民",
    "群众",
    "中小学生",
    "志愿者",
    "非遗传承人",
    "文艺爱好者",
    "老年朋友",
    "亲子家庭",
    "社区居民",
    "游客",
    "青少年",
    "留守儿童",
    "退休职工",
    "外来务工人员",
    "大学生",
    "文艺骨干",
    "基层文化工作者",
    "农民群众",
    "书画爱好者",
    "戏迷朋友",
)
REACTIONS = (
    "纷纷拍照留念",
    "掌声不断",
    "气氛热烈",
    "积极参与互动",
    "认真聆听",
    "赞不绝口",
    "踊跃报名",
    "现场体验了传统技艺",
    "欣赏了精彩节目",
    "感受到浓厚的文化氛围",
    "收获满满",
    "意犹未尽",
    "连连叫好",
    "跃跃欲试",
    "深受启发",
    "纷纷点赞",
)
ROLES = (
    "馆长",
    "负责人",
    "相关负责人",
    "活动组织者",
    "参与活动的市民",
    "传承人",
    "党工委书记",
    "志愿者代表",
    "授课老师",
    "参赛选手",
    "学生家长",
    "社区书记",
    "项目负责人",
)
QUOTES = (
    "这样的活动让群众在家门口就能享受到文化大餐",
    "希望通过活动让更多人了解和喜爱传统文化",
    "我们将持续推进公共文化服务提质增效",
    "非遗保护需要全社会共同参与",
    "孩子们在活动中学到了很多课本以外的知识",
    "文化惠民工程真正走进了百姓心里",
    "全民阅读氛围越来越浓厚",
    "要让文化资源下沉到基层",
    "传统技艺要在创新中传承",
    "每次来都有新收获",
    "希望以后多举办这样的活动",
    "让老手艺焕发新活力",
)
GOALS = (
    "完善公共文化服务体系",
    "推动文旅融合发展",
    "丰富群众精神文化生活",
    "加强非遗保护传承",
    "打造特色文化品牌",
    "提升基层文化阵地服务效能",
    "推进书香城市建设",
    "培育文艺骨干队伍",
    "扩大优质文化供给",
    "促进乡村文化振兴",
    "创新公共文化服务方式",
    "深化文明实践活动",
    "弘扬中华优秀传统文化",
    "满足人民群众日益增长的精神文化需求",
    "讲好唐山故事",
)
EXTRAS = (
    "场馆已实现WiFi全覆盖",
    "活动通过5G直播同步播出",
    "市民可通过APP提前预约",
    "线上观看人数突破3万",
    "开放时间为每周二至周日9:00-17:00",
    "活动免费向社会公众开放",
    "详情可拨打咨询电话0315-2812345",
    "相关作品将在官方微信公众号展示",
    "报名截止日期为本月20日",
    "疫情期间活动改为线上举办",
)
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彬宇浩凯健俊帆帅"
PLACE = "东西南北新老大小前后上下李王张刘马杨庄营店屯坨铺河桥山峪沟湾坡岭泉林庙寺堡港"
TOWN_KINDS = ("镇", "乡", "街道", "村", "社区")


T = TypeVar("T")


def zipf(rng: random.Random, items: Sequence[T], s: float = 1.0) -> T:
    """An item, the first ones far more often (weight 1/rank^s)."""
    weights = _WEIGHTS.get((len(items), s))
    if weights is None:
        weights = _WEIGHTS[(len(items), s)] = [1 / (rank + 1) ** s for rank in range(len(items))]
    return rng.choices(items, weights)[0]


_WEIGHTS: dict[tuple[int, float], list[float]] = {}


class Writer:
    """Culture-news text for one article."""

    def __init__(self, rng: random.Random, district: str) -> None:
        self.rng = rng
        self.district = district
        self.art, self.venue, self.event = zipf(rng, ARTS), zipf(rng, VENUES), zipf(rng, EVENTS)
        self.town = self.place()

    def place(self) -> str:
        return self.rng.choice(PLACE) + self.rng.choice(PLACE) + self.rng.choice(TOWN_KINDS)

    def person(self) -> str:
        return self.rng.choice(SURNAMES) + "".join(
            self.rng.choices(GIVEN, k=self.rng.randint(1, 2))
        )

    def sentence(self) -> str:
        r = self.rng
        d, art, venue, event = self.district, self.art, self.venue, self.event
        if r.random() < 0.35:  # articles also mention other things
            art, venue, event = zipf(r, ARTS), zipf(r, VENUES), zipf(r, EVENTS)
        templates: tuple[Callable[[], str], ...] = (
            lambda: (
                f"{r.randint(1, 12)}月{r.randint(1, 28)}日，{d}{venue}在{self.town}举办{art}{event}。"
            ),
            lambda: f"活动由{zipf(r, ORGS)}主办，{d}{zipf(r, VENUES)}承办。",
            lambda: f"活动现场，{zipf(r, PEOPLE)}{zipf(r, REACTIONS)}。",
            lambda: f"本次活动吸引了{r.randint(2, 90) * 10}余名{zipf(r, PEOPLE)}参与。",
            lambda: (
                f"据了解，{d}今年以来已开展各类{zipf(r, EVENTS)}{r.randint(10, 400)}场次，"
                f"服务群众{r.randint(1, 60)}万人次。"
            ),
            lambda: f"{zipf(r, ROLES)}{self.person()}表示：“{zipf(r, QUOTES)}。”",
            lambda: f"下一步，{d}将继续{zipf(r, GOALS)}，{zipf(r, GOALS)}。",
            lambda: f"{zipf(r, EXTRAS)}。",
            lambda: (
                f"{self.place()}{zipf(r, VENUES)}还组织开展了{zipf(r, ARTS)}{zipf(r, EVENTS)}。"
            ),
            lambda: (
                f"{art}是{d}的特色文化项目，{self.person()}等传承人"
                f"坚持{r.randint(10, 40)}年，带出了一批{zipf(r, PEOPLE)}。"
            ),
            lambda: (
                f"在{self.place()}，{self.person()}带领{zipf(r, PEOPLE)}学习{art}，{zipf(r, REACTIONS)}。"
            ),
            lambda: f"近年来，{d}以{venue}为阵地，{zipf(r, GOALS)}。",
        )
        return zipf(r, templates, 0.5)()

    def article(self) -> tuple[str, str]:
        verb = self.rng.choice(("举办", "开展", "启动", "圆满完成", "精彩上演"))
        title = f"{self.district}{self.venue}{verb}{self.art}{self.event}"
        paragraphs, length, target = [], 0, self.rng.randint(650, 950)
        while length < target:
            paragraph = "".join(self.sentence() for _ in range(self.rng.randint(2, 5)))
            paragraphs.append(paragraph)
            length += len(paragraph) + 1
        return title, "\n".join(paragraphs)


def two_character_words() -> list[str]:
    """The benchmark's query words: every 2-character word of the lists, and the common
    2-character words of the fixed phrases."""
    words = {w for group in (ARTS, VENUES, EVENTS, PEOPLE) for w in group if len(w) == 2}
    words |= {
        "文化",
        "活动",
        "群众",
        "服务",
        "传承",
        "非遗",
        "社区",
        "志愿",
        "公益",
        "阵地",
        "品牌",
        "乡村",
        "振兴",
        "文明",
        "阅读",
        "书香",
        "传统",
        "技艺",
        "精彩",
        "节目",
        "氛围",
        "现场",
        "主办",
        "承办",
        "协会",
        "市民",
        "直播",
        "预约",
        "开放",
        "免费",
    }
    return sorted(words)


def article(rng: random.Random, n: int) -> tuple[dict[str, Any], dict[str, Any]]:
    district = DISTRICTS[n % len(DISTRICTS)]
    title, body = Writer(rng, district).article()
    html = "".join(f"<p>{p}</p>" for p in body.split("\n"))
    return placed(
        rng,
        n,
        {
            "content_type": "text/html; charset=utf-8",
            "title": title,
            "published_precision": "minute",
            "source": f"{district}融媒体中心",
            "editor": rng.choice(("王瑶", "李娜", "张伟", "刘洋", "陈静")),
            "city": "唐山市",
            "district": district,
            "category": rng.choice(("信息资讯", "文旅活动", "非遗保护")),
            "body_text": body,
            "body_html": html,
        },
    )


def placed(
    rng: random.Random, n: int, text: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Article n (row of `articles`, row of `article_versions`) with the given text and
    its own URL and random publication time."""
    published = (
        f"{rng.randint(2016, 2024)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        f"T{rng.randint(8, 20):02d}:{rng.randint(0, 59):02d}:00+08:00"
    )
    when = datetime(2024, 6, 1, tzinfo=UTC)
    url = f"http://bench.wenhua.local/new-{n}.html"
    version = {
        "id": n,
        "article_id": n,
        "content_hash": f"{n:064x}",
        "fetched_at": when,
        "http_status": 200,
        "final_url": url,
        "raw_sha256": f"{n:064x}",
        "published_at": published,
        **text,
    }
    return (
        {
            "id": n,
            "url": url,
            "site_id": 1,
            "first_seen": when,
            "last_seen": when,
            "changed_at": when,
        },
        version,
    )


def batches(
    rng: random.Random, total: int, size: int
) -> Iterator[list[tuple[dict[str, Any], dict[str, Any]]]]:
    for start in range(1, total + 1, size):
        yield [article(rng, n) for n in range(start, min(total, start + size - 1) + 1)]


# Copies of the first `distinct` articles under new ids (SQL, no Python per row): own URL
# and a publication time spread over 2016-2024 by the new id.
_COPY_ARTICLES = (
    "INSERT INTO articles (id, url, site_id, first_seen, last_seen, changed_at,"
    " current_version_id) SELECT id + {shift}, 'http://bench.wenhua.local/new-' || (id + {shift})"
    " || '.html', site_id, first_seen, last_seen, changed_at, id + {shift}"
    " FROM articles WHERE id <= {count}"
)
_VERSION_COLUMNS = (
    "fetched_at, http_status, content_type, title, published_precision, source, editor,"
    " city, district, category, body_text, body_html"
)
_COPY_VERSIONS = (
    "INSERT INTO article_versions (id, article_id, content_hash, raw_sha256, final_url,"
    f" published_at, {_VERSION_COLUMNS}) SELECT id + {{shift}}, id + {{shift}}, content_hash,"
    " raw_sha256, 'http://bench.wenhua.local/new-' || (id + {shift}) || '.html', {published},"
    f" {_VERSION_COLUMNS} FROM article_versions WHERE id <= {{count}}"
)
_PUBLISHED_SQLITE = (
    "printf('%04d-%02d-%02dT%02d:%02d:00+08:00', 2016 + (id + {shift}) * 7 % 9,"
    " 1 + (id + {shift}) * 5 % 12, 1 + (id + {shift}) * 11 % 28, 8 + (id + {shift}) * 3 % 13,"
    " (id + {shift}) * 13 % 60)"
)
_PUBLISHED_PG = (
    "concat_ws('', 2016 + (id + {shift}) * 7 % 9, '-', lpad((1 + (id + {shift}) * 5 % 12)::text,"
    " 2, '0'), '-', lpad((1 + (id + {shift}) * 11 % 28)::text, 2, '0'), 'T',"
    " lpad((8 + (id + {shift}) * 3 % 13)::text, 2, '0'), ':',"
    " lpad(((id + {shift}) * 13 % 60)::text, 2, '0'), ':00+08:00')"
)


def copies(dialect: str, distinct: int, total: int) -> Iterator[tuple[str, int]]:
    """SQL statements (and how many articles each adds) that fill ids distinct+1..total
    with copies of articles 1..distinct."""
    published = _PUBLISHED_SQLITE if dialect == "sqlite" else _PUBLISHED_PG
    for shift in range(distinct, total, distinct):
        count = min(distinct, total - shift)
        yield _COPY_ARTICLES.format(shift=shift, count=count), 0
        yield (
            _COPY_VERSIONS.format(
                shift=shift, count=count, published=published.format(shift=shift)
            ),
            count,
        )


def fresh_database(backend: str, workdir: Path, pg_db: str) -> str:
    if backend == "sqlite":
        workdir.mkdir(parents=True, exist_ok=True)
        path = workdir / "search-bench.sqlite"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    import psycopg

    admin = make_url(PG_URL).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{pg_db}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{pg_db}"')
    return make_url(PG_URL).set(database=pg_db).render_as_string(hide_password=False)


# The bench's own scratch SQLite file only: no rollback journal, no fsync, a 1 GB page
# cache. A crash mid-run leaves a broken file, which the next run deletes anyway; an
# archive opened by wenhua keeps its WAL and synchronous=NORMAL (archive/db.py).
SCRATCH_PRAGMAS = ("journal_mode=OFF", "synchronous=OFF", "cache_size=-1048576")


def scratch_sqlite(archive: Archive) -> None:
    """Set SCRATCH_PRAGMAS on every connection of the bench's archive (after its own)."""

    @event.listens_for(archive.engine, "connect")
    def _fast(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        for pragma in SCRATCH_PRAGMAS:
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    archive.engine.dispose()  # connections opened before the listener are dropped


def load(archive: Archive, articles: int, seed: int, distinct: int | None = None) -> None:
    """Insert the synthetic articles in one transaction: executemany on SQLite (foreign
    keys off while loading, so each article can point at its version at once), COPY on
    PostgreSQL (triggers, hence foreign key checks, off for the load)."""
    rng = random.Random(seed)
    written = min(articles, distinct or articles)
    site = {
        "id": 1,
        "name": "bench",
        "title": "基准",
        "family": "bench",
        "base_url": "http://bench.wenhua.local",
        "city": "唐山市",
    }
    done = 0

    def progress(n: int) -> None:
        nonlocal done
        done += n
        print(f"\r  inserted {done}/{articles}", end="", file=sys.stderr, flush=True)

    if archive.engine.dialect.name == "sqlite":
        with archive.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.commit()  # the PRAGMA is a no-op inside a transaction
            with conn.begin():
                conn.execute(insert(Site).values(site))
                for batch in batches(rng, written, 2000):
                    conn.execute(
                        insert(Article), [{**a, "current_version_id": a["id"]} for a, _ in batch]
                    )
                    conn.execute(insert(ArticleVersion), [v for _, v in batch])
                    progress(len(batch))
                for statement, count in copies("sqlite", written, articles):
                    conn.exec_driver_sql(statement)
                    progress(count)
            conn.exec_driver_sql("PRAGMA foreign_keys=ON")
            conn.commit()
    else:
        raw = archive.engine.raw_connection()
        try:
            pg: Any = raw.driver_connection
            with pg.cursor() as cur:
                cur.execute("SET session_replication_role = replica")
                cur.execute(
                    "INSERT INTO sites (id, name, title, family, base_url, city)"
                    " VALUES (%(id)s, %(name)s, %(title)s, %(family)s, %(base_url)s, %(city)s)",
                    site,
                )
                first = True
                for batch in batches(rng, written, 2000):
                    if first:
                        a_cols = [*batch[0][0], "current_version_id"]
                        v_cols = list(batch[0][1])
                        first = False
                    with cur.copy(f"COPY articles ({', '.join(a_cols)}) FROM STDIN") as copy:
                        for a, _ in batch:
                            copy.write_row([*a.values(), a["id"]])
                    with cur.copy(
                        f"COPY article_versions ({', '.join(v_cols)}) FROM STDIN"
                    ) as copy:
                        for _, v in batch:
                            copy.write_row(list(v.values()))
                    progress(len(batch))
                for statement, count in copies("postgresql", written, articles):
                    cur.execute(statement)
                    progress(count)
                cur.execute("SET session_replication_role = DEFAULT")
                for table in ("articles", "article_versions", "sites"):
                    cur.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
            pg.commit()
        finally:
            raw.close()
    print(file=sys.stderr)


def timed(
    archive: Archive, queries: list[tuple[str, str | None]]
) -> tuple[list[float], list[float], list[int], int]:
    """Per query: wall-clock ms, CPU ms of this process (with SQLite, the whole search;
    with PostgreSQL, the client side only), the total, and how many totals were bounds."""
    times, cpu, totals, bounded = [], [], [], 0
    for query, district in queries:
        started, started_cpu = time.perf_counter(), time.process_time()
        with archive.session() as session:
            page = search(session, query, district=district)
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
        totals.append(page.total)
        bounded += not page.total_exact
    return times, cpu, totals, bounded


def key_cost(archive: Archive, sample: int = 2000) -> float:
    """Milliseconds per article to compute its index keys (the CPU part of indexing)."""
    with archive.session() as session:
        rows = session.execute(
            select(ArticleVersion.title, ArticleVersion.body_text, ArticleVersion.district)
            .order_by(ArticleVersion.id)
            .limit(sample)
        ).all()
    started = time.perf_counter()
    for row in rows:
        document_keys(row.title, row.body_text, site_id=1, district=row.district)
    return (time.perf_counter() - started) * 1000 / max(1, len(rows))


@contextmanager
def memoized_keys() -> Iterator[dict[Any, str]]:
    """archive.search.document_keys computed once per distinct argument set."""
    original = search_module.document_keys
    computed: dict[Any, str] = {}

    def keys(title: str, body: str, **fields: Any) -> list[str]:
        memo = (title, body, *sorted(fields.items()))
        spaced = computed.get(memo)
        if spaced is None:
            spaced = computed[memo] = " ".join(original(title, body, **fields))
        return spaced.split(" ")

    search_module.document_keys = keys
    try:
        yield computed
    finally:
        search_module.document_keys = original


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(share * len(ordered)) - 1)]


def report(
    label: str, times: list[float], cpu: list[float], totals: list[int], bounded: int
) -> None:
    print(
        f"{label:34} n={len(times):3}  p50 {statistics.median(times):6.1f} ms  "
        f"p95 {percentile(times, 0.95):6.1f} ms  max {max(times):6.1f} ms  "
        f"(CPU p50 {statistics.median(cpu):5.1f}, p95 {percentile(cpu, 0.95):5.1f} ms)  "
        f"matches/query median {int(statistics.median(totals))}, max {max(totals)};"
        f" total a lower bound for {bounded}",
        flush=True,
    )


def database_size(archive: Archive) -> str:
    with archive.engine.connect() as conn:
        if archive.engine.dialect.name == "sqlite":
            pages = conn.execute(text("PRAGMA page_count")).scalar_one()
            size = conn.execute(text("PRAGMA page_size")).scalar_one()
            total = int(pages) * int(size)
            index = conn.execute(
                text("SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'search_%'")
            ).scalar()
        else:
            total = int(
                conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
            )
            index = conn.execute(text("SELECT pg_total_relation_size('search_docs')")).scalar()
    index_mb = f"{int(index) / 2**20:.0f} MB" if index is not None else "n/a"
    return f"database {total / 2**20:.0f} MB, of which the search index {index_mb}"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--queries", type=int, default=200, help="queries per query shape")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument(
        "--distinct",
        type=int,
        default=None,
        help="write only this many texts and reuse them (own id, URL, time) for the rest",
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=Path("bench-data"),
        help="where the SQLite file goes (default ./bench-data)",
    )
    parser.add_argument(
        "--pg-db",
        default="wenhua_search_bench",
        help="PostgreSQL database to (re)create on the WENHUA_TEST_PG_URL server",
    )
    parser.add_argument(
        "--memo-keys",
        action="store_true",
        help="with --distinct: compute each text's keys once during reindex_all (the rest of"
        " the build, writes and index, is unchanged; the key cost is printed separately)",
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep the articles a previous run left (rebuild the index only)",
    )
    parser.add_argument(
        "--load-only",
        action="store_true",
        help="stop after inserting the articles (index them later with --reuse)",
    )
    parser.add_argument(
        "--no-queries",
        action="store_true",
        help="stop after building the index (time the queries later with --reuse --no-reindex)",
    )
    parser.add_argument(
        "--build-memory",
        default="4GB",
        help="PostgreSQL maintenance_work_mem for the GIN build (reindex_all's build_memory)",
    )
    parser.add_argument(
        "--no-reindex",
        action="store_true",
        help="with --reuse: keep the index too, only time queries",
    )
    args = parser.parse_args()

    if args.reuse:
        url = (
            f"sqlite:///{args.workdir / 'search-bench.sqlite'}"
            if args.db == "sqlite"
            else make_url(PG_URL).set(database=args.pg_db).render_as_string(hide_password=False)
        )
        started = time.perf_counter()
        archive = Archive(url)  # an archive from before the current index is rebuilt here
        print(f"opened (and migrated) in {time.perf_counter() - started:.0f} s")
        if args.db == "sqlite":
            scratch_sqlite(archive)
    else:
        archive = Archive(fresh_database(args.db, args.workdir, args.pg_db))
        if args.db == "sqlite":
            scratch_sqlite(archive)
        started = time.perf_counter()
        load(archive, args.articles, args.seed, args.distinct)
        print(
            f"generated and inserted {args.articles} articles in "
            f"{time.perf_counter() - started:.0f} s"
        )
        if args.load_only:
            archive.close()
            return
    if not (args.reuse and args.no_reindex):
        print(f"index keys: {key_cost(archive):.2f} ms per article (document_keys, 2,000 texts)")
        started = time.perf_counter()
        with archive.session() as session:
            if args.memo_keys:
                with memoized_keys() as computed:
                    indexed = reindex_all(session, build_memory=args.build_memory)
                print(f"  keys computed for {len(computed)} distinct texts, reused for the rest")
            else:
                indexed = reindex_all(session, build_memory=args.build_memory)
        built = time.perf_counter() - started  # the commit included
        print(
            f"indexed {indexed} articles (reindex_all) in {built:.0f} s,"
            f" {built * 1000 / max(1, indexed):.2f} ms per article"
        )
        with archive.engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    with archive.session() as session:
        count = session.scalar(select(func.count()).select_from(Article))
        bodies = session.scalar(select(func.avg(func.length(ArticleVersion.body_text))))
    print(
        f"{args.db}: {count} articles, bodies {float(bodies or 0):.0f} characters on average;"
        f" {database_size(archive)}"
    )
    if args.no_queries:
        archive.close()
        return

    rng = random.Random(args.seed + 1)
    words = two_character_words()

    def pick(pool: Sequence[str], filtered: bool, n: int) -> list[tuple[str, str | None]]:
        return [(rng.choice(pool), rng.choice(DISTRICTS) if filtered else None) for _ in range(n)]

    timed(archive, pick(words, True, 10))  # warm-up, not counted
    common = ["文化", "活动", "群众", "服务", "非遗"]
    singles = sorted({char for word in words for char in word})
    longer = [w for group in (ARTS, VENUES, EVENTS) for w in group if len(w) >= 3]
    pairs = [
        f"{a} {b}"
        for a, b in zip(rng.choices(words, k=100), rng.choices(words, k=100), strict=True)
    ]
    for label, pool, filtered, n in (
        ("2-char word + district (target)", words, True, args.queries),
        ("  the 5 commonest words + district", common, True, args.queries),
        ("1 character + district", singles, True, args.queries),
        ("3+ characters + district", longer, True, args.queries),
        ("two 2-char words + district", pairs, True, args.queries),
        ("2-char word, no filter", words, False, args.queries),
        ("  the 5 commonest words, no filter", common, False, args.queries),
        ("1 character, no filter", singles, False, args.queries),
        ("3+ characters, no filter", longer, False, args.queries),
        ("two 2-char words, no filter", pairs, False, args.queries),
    ):
        report(label, *timed(archive, pick(pool, filtered, n)))
    archive.close()


if __name__ == "__main__":
    main()
