// Groups: create one, see its members, add and remove members, leave. The server decides who
// may do what (only the owner adds and removes); the dialog offers what the member's role allows.
import { t } from "./i18n.js";
import { el } from "./dom.js";

const $ = (id) => document.getElementById(id);
/** {api(), me(), fail(e), reload(), open(id), left(id)} from app.js. */
let ctx = null;
/** The group whose members the dialog shows. */
let shown = null;

export function wireGroups(context) {
  ctx = context;
  const on = (id, type, fn) => $(id).addEventListener(type, (e) => {
    if (type === "submit") e.preventDefault();
    Promise.resolve(fn()).catch(ctx.fail);
  });
  on("new-group", "click", () => {
    $("group-form").reset();
    $("group-dialog").showModal();
  });
  on("group-cancel", "click", () => $("group-dialog").close());
  on("group-form", "submit", createGroup);
  on("members-close", "click", () => $("members-dialog").close());
  on("add-form", "submit", addMember);
  on("leave", "click", leave);
  $("members-dialog").addEventListener("close", () => { shown = null; });
}

async function createGroup() {
  const members = $("group-members").value.split(/[\s,，]+/).filter(Boolean);
  const subject = $("group-subject").value.trim();
  const c = await ctx.api().call("POST", "/groups", { subject, members });
  $("group-dialog").close();
  await ctx.reload();
  await ctx.open(c.id);
}

/** Opens (or refreshes) the members dialog of group `id`. */
export async function showMembers(id) {
  const detail = await ctx.api().call("GET", `/conversations/${id}`);
  shown = id;
  const me = ctx.me().uuid;
  const owner = detail.participants.some((p) => p.uuid === me && p.role === "owner");
  $("member-list").replaceChildren(...detail.participants.map((p) => {
    const li = el("li");
    li.dataset.uuid = p.uuid;
    const name = el("span", "name", p.username);
    name.dir = "auto";
    li.append(name);
    if (p.uuid === me) li.append(el("span", "role", t("you")));
    if (p.role === "owner") li.append(el("span", "role", t("owner")));
    if (owner && p.uuid !== me) {
      const b = el("button", "link small", t("remove"));
      b.type = "button";
      b.setAttribute("aria-label", `${t("remove")}: ${p.username}`);
      b.addEventListener("click", () => remove(id, p.uuid).catch(ctx.fail));
      li.append(b);
    }
    return li;
  }));
  $("add-form").hidden = !owner;
  if (!$("members-dialog").open) $("members-dialog").showModal();
}

async function addMember() {
  const uuid = $("add-uuid").value.trim();
  await ctx.api().call("POST", `/conversations/${shown}/members`, { members: [uuid] });
  $("add-uuid").value = "";
  await showMembers(shown);
}

async function remove(id, uuid) {
  await ctx.api().call("DELETE", `/conversations/${id}/members/${encodeURIComponent(uuid)}`);
  if (shown === id) await showMembers(id);
}

async function leave() {
  const id = shown;
  await ctx.api().call("DELETE", `/conversations/${id}/members/${encodeURIComponent(ctx.me().uuid)}`);
  $("members-dialog").close();
  ctx.left(id);
}

/** A `membership` event: refresh the open dialog, or close it when the member was removed. */
export function onMembership(frame) {
  if (shown !== frame.conversation_id) return;
  if (frame.removed.includes(ctx.me().uuid)) $("members-dialog").close();
  else showMembers(shown).catch(ctx.fail);
}
