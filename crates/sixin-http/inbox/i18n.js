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
}
