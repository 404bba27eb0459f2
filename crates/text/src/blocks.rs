//! Building clean text from markup: inline text with collapsed white space, and line and
//! paragraph breaks between blocks.

/// Text under construction.
#[derive(Debug, Default)]
pub struct Blocks {
    text: String,
}

impl Blocks {
    /// Appends inline text, collapsing runs of white space into one space.
    pub fn push(&mut self, inline: &str) {
        for c in inline.chars() {
            if c.is_whitespace() {
                if !self.text.is_empty() && !self.text.ends_with([' ', '\n']) {
                    self.text.push(' ');
                }
            } else {
                self.text.push(c);
            }
        }
    }

    /// Appends text as it is (code and `<pre>` blocks keep their lines).
    pub fn push_preformatted(&mut self, text: &str) {
        self.text.push_str(text);
    }

    /// Ends the current line.
    pub fn break_line(&mut self) {
        self.trim_spaces();
        if !self.text.is_empty() && !self.text.ends_with('\n') {
            self.text.push('\n');
        }
    }

    /// Ends the current paragraph (a blank line).
    pub fn break_paragraph(&mut self) {
        self.break_line();
        if !self.text.is_empty() && !self.text.ends_with("\n\n") {
            self.text.push('\n');
        }
    }

    /// Separates table cells on one line.
    pub fn cell(&mut self) {
        self.trim_spaces();
        if !self.text.is_empty() && !self.text.ends_with('\n') {
            self.text.push_str(" | ");
        }
    }

    /// Current length, to find what was written since.
    pub fn len(&self) -> usize {
        self.text.len()
    }

    /// Text written since `start`.
    pub fn since(&self, start: usize) -> &str {
        self.text.get(start..).unwrap_or("")
    }

    fn trim_spaces(&mut self) {
        while self.text.ends_with(' ') {
            self.text.pop();
        }
    }

    /// The finished text.
    pub fn finish(mut self) -> String {
        let trimmed = self.text.trim_end().len();
        self.text.truncate(trimmed);
        self.text
    }
}
