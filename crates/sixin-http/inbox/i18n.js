// The inbox's words in English and Chinese; the browser's language chooses.
const words = {
  en: {
    inbox: "Inbox", signIn: "Sign in", signOut: "Sign out", appKey: "App key",
    username: "Username", password: "Password", conversations: "Conversations",
    newChat: "New chat with member ID", open: "Open", noConversations:
      "No conversations yet. Paste a member ID above to start one.",
    yourId: "Your member ID:", back: "Back", pick: "Choose a conversation",
    message: "Message", send: "Send", recalled: "Message recalled",
    unread: (n) => `${n} unread`, noMessages: "No messages yet. Say hello!",
    loadingOlder: "Loading older messages…", offline: "Offline, reconnecting…",
    sessionEnded: "Your session ended. Sign in again.",
    badCredentials: "Wrong app key, username or password.",
    failed: (m) => `Could not do that: ${m}`, group: (n) => `Group (${n})`,
    nonText: (t) => `[${t}]`, you: "You", recall: "Recall", hide: "Delete for me",
    block: "Block", unblock: "Unblock", dmPolicy: "Who may start a chat with me",
    everyone: "Everyone", contacts: "People in my groups", nobody: "No one new",
    notAccepted: "This member does not accept your messages.",
    kind: "Message type", kindText: "Text", kindLink: "Link", kindImage: "Image",
    kindHtml: "Rich text", linkUrl: "Link address", linkTitle: "Title (optional)",
    imageUrl: "Image address (https://…)", bold: "Bold", italic: "Italic",
    richText: "Rich text message", image: "Image", imageMsg: "[Image]",
    read: "Read", sent: "Sent", newGroup: "New group", subject: "Group name",
    memberIds: "Member IDs (one per line)", cancel: "Cancel", create: "Create",
    members: "Members", membersN: (n) => `Members (${n})`, addMember: "Add a member by ID",
    add: "Add", remove: "Remove", leave: "Leave group", close: "Close", owner: "owner",
    left: "You left the group.",
  },
  zh: {
    inbox: "私信", signIn: "登录", signOut: "退出", appKey: "应用 Key",
    username: "用户名", password: "密码", conversations: "会话",
    newChat: "按成员 ID 发起私信", open: "打开", noConversations:
      "还没有会话。在上方粘贴成员 ID 开始聊天。",
    yourId: "我的成员 ID：", back: "返回", pick: "选择一个会话",
    message: "消息", send: "发送", recalled: "消息已撤回",
    unread: (n) => `${n} 条未读`, noMessages: "还没有消息，打个招呼吧！",
    loadingOlder: "正在加载更早的消息…", offline: "网络断开，正在重连…",
    sessionEnded: "登录已失效，请重新登录。",
    badCredentials: "应用 Key、用户名或密码不正确。",
    failed: (m) => `操作失败：${m}`, group: (n) => `群聊（${n}）`,
    nonText: (t) => `[${t}]`, you: "我", recall: "撤回", hide: "仅自己删除",
    block: "屏蔽", unblock: "取消屏蔽", dmPolicy: "谁可以向我发起私信",
    everyone: "所有人", contacts: "同一群聊的成员", nobody: "不接受新的私信",
    notAccepted: "对方不接收你的消息。",
    kind: "消息类型", kindText: "文字", kindLink: "链接", kindImage: "图片",
    kindHtml: "富文本", linkUrl: "链接地址", linkTitle: "标题（可选）",
    imageUrl: "图片地址（https://…）", bold: "加粗", italic: "斜体",
    richText: "富文本消息", image: "图片", imageMsg: "[图片]",
    read: "已读", sent: "未读", newGroup: "新建群聊", subject: "群名称",
    memberIds: "成员 ID（每行一个）", cancel: "取消", create: "创建",
    members: "成员", membersN: (n) => `成员（${n}）`, addMember: "按 ID 添加成员",
    add: "添加", remove: "移出", leave: "退出群聊", close: "关闭", owner: "群主",
    left: "你已退出群聊。",
  },
};

export const lang = (navigator.languages?.[0] || navigator.language || "en")
  .toLowerCase().startsWith("zh") ? "zh" : "en";

export function t(key, ...args) {
  const w = words[lang][key] ?? words.en[key] ?? key;
  return typeof w === "function" ? w(...args) : w;
}

/** Fills every element with `data-t` from the word list. */
export function translatePage() {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  for (const el of document.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
  for (const el of document.querySelectorAll("[data-tl]")) {
    el.setAttribute("aria-label", t(el.dataset.tl));
    el.title = t(el.dataset.tl);
  }
  for (const el of document.querySelectorAll("[data-tp]")) el.placeholder = t(el.dataset.tp);
}
