// The page at GET / in a real browser: Debian's chromium driven headless by
// playwright-core, against a real gaztagd started by test_web_page.py with
// the gazetteers of tests/data/web (people, places, units, and a "ship" type
// the page has no fixed colour for; two places named Georgia, told apart by
// context, and a person with no alias, for the "chosen by" row of the card).
//
// Environment (set by test_web_page.py):
//   GAZTAG_URL        the daemon's base URL, http://127.0.0.1:PORT/
//   GAZTAG_NODE_DIR   the directory whose node_modules holds playwright-core
//   GAZTAG_ARTIFACTS  where the screenshots go (the build directory)
//   GAZTAG_MAX_BODY   the daemon's max_body_bytes, to provoke its 413
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const BASE = process.env.GAZTAG_URL;
const NODE_DIR = process.env.GAZTAG_NODE_DIR;
const ARTIFACTS = process.env.GAZTAG_ARTIFACTS || os.tmpdir();
const MAX_BODY = Number(process.env.GAZTAG_MAX_BODY || 65536);
if (!BASE || !NODE_DIR)
	throw new Error("run through test_web_page.py (GAZTAG_URL, GAZTAG_NODE_DIR)");
const { chromium } = createRequire(path.join(NODE_DIR, "node_modules", "_"))("playwright-core");

const ARTICLE =
	"Volodymyr Zelensky met Lech Wałęsa in Kyiv on Monday. Syrskyi said the " +
	"3rd Assault Brigade had moved from Kyiv Oblast towards Kharkiv, while the " +
	"Azov Brigade still remembers Mariupol and the Sea of Azov. The cruiser " +
	"Moskva sank in 2022. Zelensky thanked the brigade.";

// [text, type, id] of each highlighted span, in text order (overlaps=longest).
const LONGEST = [
	["Volodymyr Zelensky", "person", "volodymyr-zelensky"],
	["Lech Wałęsa", "person", "lech-walesa"],
	["Kyiv", "place", "kyiv"],
	["Syrskyi", "person", "oleksandr-syrskyi"],
	["3rd Assault Brigade", "unit", "3rd-assault-brigade"],
	["Kyiv Oblast", "place", "kyiv-oblast"],
	["Kharkiv", "place", "kharkiv"],
	["Azov Brigade", "unit", "azov-brigade"],
	["Mariupol", "place", "mariupol"],
	["Sea of Azov", "place", "sea-of-azov"],
	["Moskva", "ship", "cruiser-moskva"],
	["Zelensky", "person", "volodymyr-zelensky"],
];

let context, userDataDir;

before(async () => {
	// A fresh profile each run: nothing cached from an older page.
	userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), "gaztag-chromium-"));
	context = await chromium.launchPersistentContext(userDataDir, {
		executablePath: "/usr/bin/chromium",
		headless: true,
		args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
			"--disable-background-networking", "--disable-component-update", "--disable-sync"],
		viewport: { width: 1100, height: 900 },
		reducedMotion: "reduce",
		timeout: 60000,
	});
});

after(async () => {
	if (context)
		await context.close();
	if (userDataDir)
		fs.rmSync(userDataDir, { recursive: true, force: true });
});

// A new page on the daemon; every console error, page error and dialog is
// recorded (a Content-Security-Policy violation shows as a console error).
async function openPage(viewport) {
	const page = await context.newPage();
	if (viewport)
		await page.setViewportSize(viewport);
	const problems = [], dialogs = [];
	page.on("console", (m) => { if (m.type() === "error") problems.push("console: " + m.text()); });
	page.on("pageerror", (e) => problems.push("pageerror: " + e.message));
	page.on("dialog", async (d) => { dialogs.push(d.type() + ": " + d.message()); await d.dismiss(); });
	const res = await page.goto(BASE, { waitUntil: "load" });
	assert.equal(res.status(), 200);
	// The type filter fills from GET /gazetteers once the page has loaded.
	await page.waitForSelector("#type-list input[value=ship]");
	return { page, problems, dialogs };
}

async function tagText(page, text) {
	await page.locator("#text").fill(text);
	await page.getByRole("button", { name: "Tag" }).click();
	await waitForAnswer(page);
}

async function waitForAnswer(page) {
	await page.waitForSelector("#results:not([hidden])");
	await page.waitForFunction(() => !document.querySelector("#tag").disabled);
}

// [text, type, id] of the outermost highlighted spans.
const topMarks = (page) => page.$$eval("#output > mark.ent",
	(ms) => ms.map((m) => [m.textContent, m.dataset.type, m.dataset.id]));

async function cardInfo(page) {
	return page.$eval("#card", (c) => ({
		hidden: c.hidden,
		id: c.querySelector(".card-id")?.textContent,
		name: c.querySelector(".card-name")?.textContent,
		rows: Object.fromEntries([...c.querySelectorAll("dt")].map((dt) =>
			[dt.textContent, dt.nextElementSibling.textContent])),
		alternatives: [...c.querySelectorAll(".card-alternatives li")].map((li) => li.textContent),
		contains: [...c.querySelectorAll("ul:not(.card-alternatives) li")].map((li) => li.textContent),
	}));
}

const markFor = (page, id, nth = 0) => page.locator(`#output mark.ent[data-id="${id}"]`).nth(nth);

test("tags an article: highlighted spans with their types, legend, entity list, hover card", async () => {
	const { page, problems, dialogs } = await openPage();
	assert.match(await page.textContent("#status"), /^17 entries, 24 names from 4 gazetteer files$/);
	assert.deepEqual(await page.$$eval("#type-list input", (bs) => bs.map((b) => [b.value, b.checked])),
		[["person", true], ["place", true], ["unit", true], ["ship", true]]);

	await tagText(page, ARTICLE);
	assert.deepEqual(await topMarks(page), LONGEST);
	assert.equal(await page.locator("#output mark mark").count(), 0);
	assert.equal(await page.textContent("#output"), ARTICLE, "the text is shown back whole");
	assert.equal(await page.isVisible("#error"), false);

	// One colour per type: the four differ, and the legend's swatch is the
	// colour of the type's spans.
	const bg = (sel) => page.$eval(sel, (e) => getComputedStyle(e).backgroundColor);
	const colours = {};
	for (const type of ["person", "place", "unit", "ship"]) {
		colours[type] = await bg(`#output mark[data-type="${type}"]`);
		assert.equal(await bg(`#legend li[data-type="${type}"] .swatch`), colours[type]);
	}
	assert.equal(new Set(Object.values(colours)).size, 4, JSON.stringify(colours));
	assert.equal(colours.person, "rgb(255, 207, 153)");
	assert.equal(colours.place, "rgb(168, 230, 191)");
	assert.equal(colours.unit, "rgb(183, 205, 255)");

	assert.deepEqual(await page.$$eval("#legend li", (lis) => lis.map((li) => li.textContent.trim())),
		["person 4", "place 5", "unit 2", "ship 1"]);
	assert.deepEqual(await page.$$eval("#entities tbody tr", (trs) => trs.map((tr) =>
		[...tr.cells].map((td) => td.textContent.trim()))), [
		["Volodymyr Zelensky", "person", "volodymyr-zelensky", "2"],
		["3rd Assault Brigade", "unit", "3rd-assault-brigade", "1"],
		["Azov Brigade", "unit", "azov-brigade", "1"],
		["Kharkiv", "place", "kharkiv", "1"],
		["Kyiv", "place", "kyiv", "1"],
		["Kyiv Oblast", "place", "kyiv-oblast", "1"],
		["Lech Wałęsa", "person", "lech-walesa", "1"],
		["Mariupol", "place", "mariupol", "1"],
		["Moskva", "ship", "cruiser-moskva", "1"],
		["Oleksandr Syrskyi", "person", "oleksandr-syrskyi", "1"],
		["Sea of Azov", "place", "sea-of-azov", "1"],
	]);
	assert.match(await page.textContent("#summary"), /^12 entities, 11 distinct, in \d+ ms$/);

	// The hover card: id, canonical name, attrs, and the rule that chose the
	// entry (the page asks for explain=true).
	assert.equal(await page.isVisible("#card"), false);
	await markFor(page, "kyiv").hover();
	await page.waitForSelector("#card:not([hidden])");
	assert.deepEqual(await cardInfo(page), {
		hidden: false, id: "kyiv", name: "Kyiv",
		rows: { id: "kyiv", type: "place", country: "UA", population: "2952301", "chosen by": "the only candidate" },
		alternatives: [], contains: [],
	});
	// An alias shows the text matched beside the canonical name.
	await page.getByText("Syrskyi", { exact: true }).hover();
	assert.deepEqual(await cardInfo(page), {
		hidden: false, id: "oleksandr-syrskyi", name: "Oleksandr Syrskyi",
		rows: { id: "oleksandr-syrskyi", type: "person", text: "Syrskyi", role: "Commander-in-Chief",
			"chosen by": "the only candidate" },
		alternatives: [], contains: [],
	});
	// An ambiguous name lists the other candidates.
	await markFor(page, "cruiser-moskva").hover();
	assert.deepEqual(await cardInfo(page), {
		hidden: false, id: "cruiser-moskva", name: "Moskva",
		rows: { id: "cruiser-moskva", type: "ship", class: "Slava-class cruiser", sunk: "2022", "chosen by": "priority" },
		alternatives: ["Moscow (place, moscow)"], contains: [],
	});
	// The card sits by its span, inside the window.
	const box = await page.locator("#card").boundingBox(), mark = await markFor(page, "cruiser-moskva").boundingBox();
	assert.ok(box.x >= 0 && box.x + box.width <= 1100, JSON.stringify(box));
	assert.ok(Math.abs(box.y - (mark.y + mark.height)) < 20 || Math.abs(box.y + box.height - mark.y) < 20,
		JSON.stringify({ box, mark }));
	await page.mouse.move(5, 5);
	assert.equal(await page.isVisible("#card"), false, "the card goes when the pointer leaves");

	// The README's picture: the article tagged, a card open.
	await markFor(page, "kyiv").hover();
	await page.screenshot({ path: path.join(ARTIFACTS, "web-page.png"), fullPage: true });

	assert.deepEqual(dialogs, []);
	assert.deepEqual(problems, []);
	await page.close();
});

test("the card says which rule chose the entry: support, qualifier, priority, name part", async () => {
	const { page, problems } = await openPage();
	const asked = [];
	page.on("request", (r) => { if (new URL(r.url()).pathname === "/tag") asked.push(r.postDataJSON()); });
	const why = (id, nth = 0) => markFor(page, id, nth).hover().then(() => page.$eval("#card", (c) => {
		const dd = c.querySelector("dd.card-why");
		return { id: c.querySelector(".card-id").textContent, rule: dd?.dataset.rule, shown: dd?.textContent,
			ids: [...(dd?.querySelectorAll("code") || [])].map((e) => e.textContent),
			alternatives: [...c.querySelectorAll(".card-alternatives li")].map((li) => li.textContent) };
	}));

	// Tbilisi, in Georgia the country, supports the country: the rule is
	// support, naming Tbilisi, not the country's higher priority.
	await tagText(page, "Volunteers from Georgia fought beside men from Tbilisi.");
	assert.equal(asked.length, 1);
	assert.equal(asked[0].explain, true, "the page asks for explain=true");
	assert.deepEqual(await topMarks(page), [["Georgia", "place", "georgia"], ["Tbilisi", "place", "tbilisi"]]);
	assert.deepEqual(await why("georgia"), { id: "georgia", rule: "support", shown: "support (tbilisi)",
		ids: ["tbilisi"], alternatives: ["Georgia (place, georgia-us)"] });
	assert.equal(await page.$eval("#card", (c) => c.textContent.includes("chosen by")), true);
	assert.deepEqual(await why("tbilisi"), { id: "tbilisi", rule: "only", shown: "the only candidate",
		ids: [], alternatives: [] });

	// A qualifier beside it picks the state over the country's priority.
	await tagText(page, "Georgia (Atlanta) sent volunteers.");
	assert.deepEqual(await topMarks(page), [["Georgia", "place", "georgia-us"], ["Atlanta", "place", "atlanta"]]);
	assert.deepEqual(await why("georgia-us"), { id: "georgia-us", rule: "qualifier", shown: "qualifier (atlanta)",
		ids: ["atlanta"], alternatives: ["Georgia (place, georgia)"] });

	// Nothing in the text to go by: priority.
	await tagText(page, "Volunteers from Georgia.");
	assert.deepEqual(await why("georgia"), { id: "georgia", rule: "priority", shown: "priority",
		ids: [], alternatives: ["Georgia (place, georgia-us)"] });

	// A last name after the full one.
	await tagText(page, "Oleh Syniehubov said Kharkiv was shelled. Syniehubov added more.");
	assert.deepEqual(await topMarks(page), [["Oleh Syniehubov", "person", "oleh-syniehubov"],
		["Kharkiv", "place", "kharkiv"], ["Syniehubov", "person", "oleh-syniehubov"]]);
	assert.deepEqual(await why("oleh-syniehubov", 1), { id: "oleh-syniehubov", rule: "name-part",
		shown: "last name of the person named earlier", ids: [], alternatives: [] });
	assert.equal((await why("oleh-syniehubov", 0)).rule, "only");
	assert.ok(asked.every((b) => b.explain === true), JSON.stringify(asked));
	assert.deepEqual(problems, []);
	await page.close();
});

test("an article holding markup is shown as text, and runs nothing", async () => {
	const { page, problems, dialogs } = await openPage();
	const text = "Kyiv <script>alert(1)</script> and <img src=x onerror=\"alert(2)\"> " +
		"<b>Kharkiv</b> &amp; <iframe srcdoc=\"<script>alert(3)</script>\"></iframe>";
	await tagText(page, text);
	assert.deepEqual(await topMarks(page), [["Kyiv", "place", "kyiv"], ["Kharkiv", "place", "kharkiv"]]);
	assert.equal(await page.textContent("#output"), text, "every character shown as typed");
	assert.equal(await page.locator("#output *:not(mark)").count(), 0, "no element but the highlights");
	assert.equal(await page.locator("script").count(), 1, "only the page's own script");
	await page.waitForTimeout(300); // a dialog would be opened asynchronously
	assert.deepEqual(dialogs, []);
	assert.deepEqual(problems, []);
	await page.close();
});

// HTML mode: a news page with markup around and inside the names, a script,
// an image with a handler, a form, a link; the names in attributes and in
// the script are not tagged.
const PAGE_HTML =
	'<article><h1>Talks in <a href="/kyiv" title="Kharkiv">Kyiv</a></h1>\n' +
	'<p class="byline">By a staff writer</p>\n' +
	'<p><b>Volodymyr</b> Zelensky met Lech Wa&#322;&#281;sa.' +
	'<script>document.title = "Mariupol"; alert(1)</script></p>\n' +
	'<img src="/photo.jpg" onerror="alert(2)" alt="Mariupol">\n' +
	'<p>The cruiser <i>Moskva</i>&nbsp;sank.</p>\n' +
	'<form action="/tag"><button>Send</button></form></article>';

test("HTML mode: the page is rendered in a sandboxed frame with its entities highlighted", async () => {
	const { page, problems, dialogs } = await openPage();
	const asked = [];
	page.on("request", (r) => { if (new URL(r.url()).pathname === "/tag") asked.push(r.postDataJSON()); });
	await page.getByLabel("HTML page").check();
	assert.equal(await page.textContent("#text-label"), "Article HTML");
	await tagText(page, PAGE_HTML);
	assert.equal(asked.length, 1);
	assert.deepEqual([asked[0].format, asked[0].annotate, asked[0].offsets], ["html", true, "utf16"]);

	// The text view gives way to the frame: sandboxed with nothing allowed,
	// its page given by srcdoc, its document out of this page's reach.
	assert.equal(await page.isVisible("#output"), false);
	assert.equal(await page.isVisible("#frame"), true);
	assert.equal(await page.textContent("#results-heading"), "Tagged page");
	assert.deepEqual(await page.$eval("#frame", (f) => [f.getAttribute("sandbox"), f.srcdoc.length > 0,
		f.contentDocument === null]), ["", true, true]);

	// The entities of the text only, their offsets into the HTML as posted:
	// the legend and list as in text mode, and no offset_mismatch error.
	assert.deepEqual(await page.$$eval("#entities tbody tr", (trs) => trs.map((tr) =>
		[...tr.cells].map((td) => td.textContent.trim()))), [
		["Kyiv", "place", "kyiv", "1"],
		["Lech Wałęsa", "person", "lech-walesa", "1"],
		["Moskva", "ship", "cruiser-moskva", "1"],
		["Volodymyr Zelensky", "person", "volodymyr-zelensky", "1"],
	]);
	assert.deepEqual(await page.$$eval("#legend li", (lis) => lis.map((li) => li.textContent.trim())),
		["person 2", "place 1", "ship 1"]);
	assert.equal(await page.isVisible("#error"), false);

	// In the frame: the page rendered, each entity in a <mark> (a name split
	// by </b> in two), coloured by type.
	const frame = page.frameLocator("#frame");
	await frame.locator("mark").first().waitFor();
	assert.deepEqual(await frame.locator("mark").evaluateAll((ms) => ms.map((m) =>
		[m.textContent, m.className, m.dataset.gzId])), [
		["Kyiv", "gz-place", "kyiv"],
		["Volodymyr", "gz-person", "volodymyr-zelensky"],
		[" Zelensky", "gz-person", "volodymyr-zelensky"],
		["Lech Wałęsa", "gz-person", "lech-walesa"],
		["Moskva", "gz-ship", "cruiser-moskva"],
	]);
	assert.equal(await frame.locator("b > mark").count(), 1, "the first half stays inside <b>");
	assert.equal(await frame.locator("mark.gz-place").evaluate((m) => getComputedStyle(m).backgroundColor),
		"rgb(168, 230, 191)");
	assert.equal(await frame.locator("mark.gz-person").first().evaluate((m) => getComputedStyle(m).backgroundColor),
		"rgb(255, 207, 153)");
	assert.equal(await frame.locator("h1").textContent(), "Talks in Kyiv");

	// Nothing of the pasted page ran or loaded: no dialog, the script's
	// title not set, the form not sent; the only complaints are the
	// browser's about what it blocked.
	await frame.locator("button").click();
	await page.waitForTimeout(300);
	assert.equal(await frame.locator("h1").count(), 1, "the frame still shows the page");
	assert.deepEqual(dialogs, []);
	assert.equal(await frame.locator("html").evaluate(() => document.title), "");
	assert.equal(asked.length, 1, "the form was not submitted to /tag");
	for (const p of problems)
		assert.match(p, /^console: (Blocked script execution in 'about:srcdoc'|Blocked form submission to '[^']*' because the form's frame is sandboxed|Refused to load the image)/, p);
	await page.screenshot({ path: path.join(ARTIFACTS, "web-page-html.png"), fullPage: true });

	// Back to text mode: the same input re-tagged as text, shown as text.
	problems.length = 0;
	await page.getByLabel("text", { exact: true }).check();
	await page.waitForSelector("#output:not([hidden])");
	await waitForAnswer(page);
	assert.equal(await page.isVisible("#frame"), false);
	assert.equal(await page.textContent("#results-heading"), "Tagged text");
	assert.equal(await page.textContent("#output"), PAGE_HTML);
	assert.equal(asked.length, 2);
	assert.equal(asked[1].format, undefined);
	assert.deepEqual(problems, []);
	await page.close();
});

test("keyboard only: Ctrl+Enter tags, Tab reaches each entity and shows its card, Escape hides it", async () => {
	const { page, problems } = await openPage();
	assert.equal(await page.evaluate(() => document.activeElement.id), "text", "the text area has the focus");
	await page.keyboard.insertText(ARTICLE);
	await page.keyboard.press("Control+Enter");
	await waitForAnswer(page);
	assert.deepEqual(await topMarks(page), LONGEST);

	// From the text area, Tab goes through the controls, then the entities.
	const focused = () => page.evaluate(() => {
		const e = document.activeElement;
		return e.matches("mark.ent") ? "mark:" + e.dataset.id : e.tagName.toLowerCase() + ":" + (e.id || e.value || "");
	});
	let steps = 0;
	while (!(await focused()).startsWith("mark:") && steps++ < 20)
		await page.keyboard.press("Tab");
	assert.equal(await focused(), "mark:volodymyr-zelensky");
	let card = await cardInfo(page);
	assert.deepEqual([card.hidden, card.id, card.name], [false, "volodymyr-zelensky", "Volodymyr Zelensky"]);
	assert.deepEqual(card.rows, { id: "volodymyr-zelensky", type: "person", wikidata: "Q3874799", role: "President of Ukraine",
		"chosen by": "the only candidate" });
	await page.keyboard.press("Tab");
	assert.equal(await focused(), "mark:lech-walesa");
	card = await cardInfo(page);
	assert.deepEqual([card.hidden, card.id, card.name], [false, "lech-walesa", "Lech Wałęsa"]);
	await page.keyboard.press("Escape");
	assert.equal(await page.isVisible("#card"), false, "Escape hides the card");
	assert.equal(await focused(), "mark:lech-walesa", "and leaves the focus where it was");
	await page.keyboard.press("Shift+Tab");
	assert.equal((await cardInfo(page)).id, "volodymyr-zelensky");

	// The entity list's names take the focus to the first mention.
	await page.getByRole("button", { name: "Sea of Azov" }).focus();
	await page.keyboard.press("Enter");
	assert.equal(await focused(), "mark:sea-of-azov");
	assert.equal((await cardInfo(page)).id, "sea-of-azov");

	// Every highlight has a visible focus ring.
	const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
	assert.equal(outline, "solid");
	assert.deepEqual(problems, []);
	await page.close();
});

test("overlaps=all nests the inner names in the outer ones and lists them", async () => {
	const { page, problems } = await openPage();
	await tagText(page, ARTICLE);
	await page.getByLabel("all (nested too)").check(); // re-tags at once
	await page.waitForSelector("#nested-section:not([hidden])");
	await waitForAnswer(page);
	assert.deepEqual(await topMarks(page), LONGEST, "the outermost spans are highlighted as before");
	assert.deepEqual(await page.$$eval("#output mark mark", (ms) => ms.map((m) =>
		[m.parentElement.textContent, m.textContent, m.dataset.type, m.dataset.id])), [
		["Volodymyr Zelensky", "Zelensky", "person", "volodymyr-zelensky"],
		["Lech Wałęsa", "Wałęsa", "person", "lech-walesa"],
		["Kyiv Oblast", "Kyiv", "place", "kyiv"],
		["Azov Brigade", "Azov", "unit", "azov-brigade"],
		["Sea of Azov", "Azov", "unit", "azov-brigade"],
	]);
	assert.deepEqual(await page.$$eval("#nested li", (lis) => lis.map((li) => li.textContent.trim())), [
		"\u201cZelensky\u201d (person, volodymyr-zelensky) inside \u201cVolodymyr Zelensky\u201d",
		"\u201cWałęsa\u201d (person, lech-walesa) inside \u201cLech Wałęsa\u201d",
		"\u201cKyiv\u201d (place, kyiv) inside \u201cKyiv Oblast\u201d",
		"\u201cAzov\u201d (unit, azov-brigade) inside \u201cAzov Brigade\u201d",
		"\u201cAzov\u201d (unit, azov-brigade) inside \u201cSea of Azov\u201d",
	]);
	assert.deepEqual(await page.$$eval("#legend li", (lis) => lis.map((li) => li.textContent.trim())),
		["person 6", "place 6", "unit 4", "ship 1"]);
	// The outer span's card names what it contains; the inner one has its own.
	await markFor(page, "kyiv-oblast").hover({ position: { x: 60, y: 5 } });
	let card = await cardInfo(page);
	assert.deepEqual([card.id, card.contains], ["kyiv-oblast", ["\u201cKyiv\u201d (place, kyiv)"]]);
	await page.locator("#output mark[data-id=kyiv-oblast] > mark").hover();
	card = await cardInfo(page);
	assert.deepEqual([card.id, card.name], ["kyiv", "Kyiv"]);
	assert.deepEqual(problems, []);
	await page.close();
});

test("the type filter asks gaztagd for the checked types only", async () => {
	const { page, problems } = await openPage();
	await tagText(page, ARTICLE);
	await page.getByRole("checkbox", { name: "place" }).uncheck(); // re-tags at once
	await page.waitForFunction(() => !document.querySelector("#output mark[data-type=place]"));
	await waitForAnswer(page);
	// Without places, "Sea of Azov" is no name any more, and the unit's
	// alias "Azov" inside it is.
	assert.deepEqual(await topMarks(page), LONGEST.filter((s) => s[1] !== "place").flatMap((s) =>
		s[2] === "cruiser-moskva" ? [["Azov", "unit", "azov-brigade"], s] : [s]));
	// Without the place candidate, Moskva is no longer ambiguous.
	await markFor(page, "cruiser-moskva").hover();
	assert.deepEqual((await cardInfo(page)).alternatives, []);
	assert.deepEqual(await page.$$eval("#legend li", (lis) => lis.map((li) => li.textContent.trim())),
		["person 4", "unit 3", "ship 1"]);

	for (const type of ["person", "unit", "ship"])
		await page.getByRole("checkbox", { name: type }).uncheck();
	assert.match(await page.textContent("#error"), /no_types: choose at least one entity type/);
	await page.getByRole("checkbox", { name: "ship" }).check();
	await page.waitForSelector("#error", { state: "hidden" });
	await waitForAnswer(page);
	assert.deepEqual(await topMarks(page), [["Moskva", "ship", "cruiser-moskva"]]);
	assert.deepEqual(problems, []);
	await page.close();
});

test("offsets are UTF-16: spans after astral characters sit on their words", async () => {
	const { page, problems } = await openPage();
	const text = "\u{1F1FA}\u{1F1E6} Zelensky in Kyiv \u{1F44D}\u{1F3FD}, then \u{10348} Kharkiv.";
	await tagText(page, text);
	assert.deepEqual(await topMarks(page), [
		["Zelensky", "person", "volodymyr-zelensky"], ["Kyiv", "place", "kyiv"], ["Kharkiv", "place", "kharkiv"]]);
	assert.equal(await page.textContent("#output"), text);
	assert.equal(await page.isVisible("#error"), false);
	assert.deepEqual(problems, []);
	await page.close();
});

test("gaztagd's JSON errors are shown in the page", async () => {
	const { page } = await openPage();
	await tagText(page, ARTICLE);
	// Over the daemon's max_body_bytes: its 413 and message, and the last
	// good answer stays on screen.
	await page.locator("#text").fill("Kyiv ".repeat(Math.ceil(MAX_BODY / 5) + 10));
	await page.getByRole("button", { name: "Tag" }).click();
	await page.waitForSelector("#error:not([hidden])");
	assert.equal(await page.textContent("#error"),
		`Error payload_too_large: the request body is over the limit of ${MAX_BODY} bytes (max_body_bytes)`);
	assert.equal(await page.getByRole("alert").count(), 1);
	assert.deepEqual(await topMarks(page), LONGEST);
	// The next good answer clears it.
	await tagText(page, "Kharkiv");
	await page.waitForSelector("#error", { state: "hidden" });
	assert.deepEqual(await topMarks(page), [["Kharkiv", "place", "kharkiv"]]);
	await page.close();
});

test("a narrow window: nothing overflows sideways, the card is a sheet at the bottom", async () => {
	const { page, problems } = await openPage({ width: 360, height: 740 });
	await tagText(page, ARTICLE);
	const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
	assert.ok(overflow <= 0, "horizontal overflow of " + overflow + " px");
	await markFor(page, "sea-of-azov").focus();
	const box = await page.locator("#card").boundingBox();
	assert.equal(await page.$eval("#card", (c) => getComputedStyle(c).position), "fixed");
	assert.ok(box.x >= 0 && box.x + box.width <= 360 && box.y + box.height <= 740, JSON.stringify(box));
	await page.screenshot({ path: path.join(ARTIFACTS, "web-page-narrow.png"), fullPage: true });
	assert.deepEqual(problems, []);
	await page.close();
});
