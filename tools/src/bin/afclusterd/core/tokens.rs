//! mio tokens for every subsystem from one allocator: a token names its
//! owner, and a freed one is reused, so the numbers stay small on any
//! target (no per-subsystem ranges to collide or overflow).

use mio::Token;

pub struct Tokens<K> {
    owners: Vec<Option<K>>,
    free: Vec<usize>,
    /// Tokens below this are the loop's own.
    base: usize,
}

impl<K: Copy> Tokens<K> {
    pub fn new(base: usize) -> Tokens<K> {
        Tokens {
            owners: Vec::new(),
            free: Vec::new(),
            base,
        }
    }

    pub fn alloc(&mut self, owner: K) -> Token {
        let i = match self.free.pop() {
            Some(i) => {
                self.owners[i] = Some(owner);
                i
            }
            None => {
                self.owners.push(Some(owner));
                self.owners.len() - 1
            }
        };
        Token(self.base + i)
    }

    pub fn free(&mut self, t: Token) {
        if let Some(slot) =
            t.0.checked_sub(self.base)
                .and_then(|i| self.owners.get_mut(i))
        {
            if slot.take().is_some() {
                self.free.push(t.0 - self.base);
            }
        }
    }

    pub fn owner(&self, t: Token) -> Option<K> {
        let i = t.0.checked_sub(self.base)?;
        self.owners.get(i).copied().flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_name_their_owner_and_are_reused() {
        let mut t = Tokens::new(2);
        let a = t.alloc('a');
        let b = t.alloc('b');
        assert_eq!((a, b), (Token(2), Token(3)));
        assert_eq!(t.owner(b), Some('b'));
        assert_eq!(t.owner(Token(0)), None, "the loop's own");
        t.free(a);
        t.free(a); // twice: harmless
        assert_eq!(t.owner(a), None);
        assert_eq!(t.alloc('c'), Token(2));
        assert_eq!(t.alloc('d'), Token(4));
    }
}
